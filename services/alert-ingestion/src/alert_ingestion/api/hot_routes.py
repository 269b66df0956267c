"""The two routes most alerts come through (POST /api/v1/alerts, POST /v2/enqueue),
registered once, as plain Starlette routes, and described in the OpenAPI document.

Plain routes because FastAPI's per-request work (dependency solving, the route's
exit stack, the lookup through the included routers) about doubles the time
spent in the app: bench/hot_routes.py (in-process, database stubbed) measured
88-118 / 104-136 us per request for /api/v1/alerts and /v2/enqueue served so,
against 166-250 / 184-286 us for the same handlers as FastAPI routes
(2026-12-07, 5 rounds each, 2 shared cores at load average 4.3-4.6). At the
5,000 alerts/s aim that is about 0.4 of a core the app does not spend, on a
machine whose 2 cores PostgreSQL and uvicorn share.
Their handlers take only the request; middleware and the app's exception
handlers apply as to every route.

FastAPI documents only its own routes, so the operations below are built from
the same Pydantic models the handlers validate and answer with, and merged into
the app's schema once, when it is first asked for."""

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from fastapi import FastAPI, Request, Response
from pydantic import BaseModel
from pydantic.json_schema import JsonSchemaMode, models_json_schema
from starlette.routing import Route

from alert_ingestion.api.routes import alerts, pagerduty
from alert_ingestion.api.schemas import AlertAccepted, PagerDutyAccepted, PagerDutyInvalid, PagerDutyThrottled
from alert_ingestion.formats.generic import GenericAlertIn
from alert_ingestion.formats.pagerduty import MAX_EVENT_BYTES, PagerDutyEvent
from platform_common.auth import INTEGRATION_KEY
from platform_common.errors import ErrorEnvelope

REF = "#/components/schemas/{model}"


@dataclass(frozen=True)
class Answer:
    """One documented response of an operation."""

    description: str
    model: type[BaseModel]
    headers: dict[str, str] = field(default_factory=dict)  # header name -> description


@dataclass(frozen=True)
class HotRoute:
    """A hot route: its handler, and what the OpenAPI document says about it."""

    path: str
    endpoint: Callable[[Request], Awaitable[Response]]
    operation_id: str
    tag: str
    summary: str
    description: str
    body: type[BaseModel]
    answers: dict[int, Answer]


_RETRY_AFTER = {"Retry-After": "seconds to wait before sending again"}

HOT_ROUTES = (
    HotRoute(
        path="/api/v1/alerts",
        endpoint=alerts.post_alert,
        operation_id="post_alert",
        tag="alerts",
        summary="Send an alert (generic format) with an integration key (Authorization: Bearer)",
        description=(
            "Stores the alert, then deduplicates it onto an open incident, correlates it with a recent one "
            "or opens a new one. The key names the service; a body naming another one is refused (403)."
        ),
        body=GenericAlertIn,
        answers={
            202: Answer("Accepted: the alert is stored, and what became of it", AlertAccepted),
            400: Answer("Empty or malformed JSON body", ErrorEnvelope),
            401: Answer("No integration key, or an unknown or revoked one", ErrorEnvelope),
            403: Answer("The body names a service other than the key's", ErrorEnvelope),
            413: Answer("Body over MAX_BODY_BYTES", ErrorEnvelope),
            422: Answer("The alert is invalid", ErrorEnvelope),
            429: Answer("Too many alerts for this integration key or from this address", ErrorEnvelope, _RETRY_AFTER),
            503: Answer("The database could not store the alert; retry", ErrorEnvelope, _RETRY_AFTER),
        },
    ),
    HotRoute(
        path="/v2/enqueue",
        endpoint=pagerduty.enqueue,
        operation_id="enqueue",
        tag="pagerduty",
        summary="PagerDuty Events API v2: trigger, acknowledge, resolve",
        description=(
            "Wire-compatible with PagerDuty's Events API v2; routing_key is an integration key. Its 400, 429 and"
            ' event-size 413 answers are PagerDuty-shaped (`{"status": "invalid event", "message": ...,'
            ' "errors": [...]}`): the one deliberate exception to the platform\'s `{"detail": ...}` envelope, so'
            " that PagerDuty senders (Alertmanager, pdpyras) understand them. A body over MAX_BODY_BYTES (413)"
            " and a 503 come in the usual envelope."
        ),
        body=PagerDutyEvent,
        answers={
            202: Answer("Event processed", PagerDutyAccepted),
            400: Answer("Invalid event, malformed JSON or unknown routing_key", PagerDutyInvalid),
            413: Answer(f"Event over {MAX_EVENT_BYTES // 1024} KB", PagerDutyInvalid),
            429: Answer("Throttled: too many events for this routing_key", PagerDutyThrottled, _RETRY_AFTER),
            503: Answer("The database could not store the event; retry", ErrorEnvelope, _RETRY_AFTER),
        },
    ),
)


def routes() -> list[Route]:
    """The Starlette routes, to be placed before FastAPI's. Each says who may
    call it as FastAPI routes do with a dependency (`access`, read by the
    route-table test): a sender with an integration key, checked by the handler."""
    made = []
    for hot in HOT_ROUTES:
        route = Route(hot.path, hot.endpoint, methods=["POST"])
        route.access = INTEGRATION_KEY  # type: ignore[attr-defined]
        made.append(route)
    return made


def _operation(hot: HotRoute, refs: dict[tuple[type[BaseModel], JsonSchemaMode], dict[str, Any]]) -> dict[str, Any]:
    responses = {}
    for status, answer in sorted(hot.answers.items()):
        response: dict[str, Any] = {
            "description": answer.description,
            "content": {"application/json": {"schema": refs[(answer.model, "serialization")]}},
        }
        if answer.headers:
            response["headers"] = {
                name: {"description": text, "schema": {"type": "integer"}} for name, text in answer.headers.items()
            }
        responses[str(status)] = response
    return {
        "tags": [hot.tag],
        "summary": hot.summary,
        "description": hot.description,
        "operationId": hot.operation_id,
        "requestBody": {"required": True, "content": {"application/json": {"schema": refs[(hot.body, "validation")]}}},
        "responses": responses,
    }


def document(app: FastAPI) -> None:
    """Make app.openapi() include the hot routes' operations beside FastAPI's own."""
    fastapi_openapi = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is not None:
            return app.openapi_schema
        schema = fastapi_openapi()
        models: list[tuple[type[BaseModel], JsonSchemaMode]] = []
        for hot in HOT_ROUTES:
            models.append((hot.body, "validation"))
            models += [(answer.model, "serialization") for answer in hot.answers.values()]
        refs, definitions = models_json_schema(list(dict.fromkeys(models)), ref_template=REF)
        components = schema.setdefault("components", {}).setdefault("schemas", {})
        for name, definition in definitions.get("$defs", {}).items():
            components.setdefault(name, definition)
        for hot in HOT_ROUTES:
            schema["paths"].setdefault(hot.path, {})["post"] = _operation(hot, refs)
        app.openapi_schema = schema
        return schema

    app.openapi = openapi  # type: ignore[method-assign]
