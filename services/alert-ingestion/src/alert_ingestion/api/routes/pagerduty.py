"""PagerDuty Events API v2, wire-compatible: point any PagerDuty sender here."""

import math
import uuid

from fastapi import APIRouter, Request, Response
from pydantic import ValidationError

from alert_ingestion.api.responses import is_malformed_json, json_response
from alert_ingestion.api.schemas import PagerDutyAccepted, PagerDutyInvalid, PagerDutyThrottled
from alert_ingestion.formats import pagerduty
from alert_ingestion.formats.common import error_messages
from alert_ingestion.formats.pagerduty import MAX_EVENT_BYTES, PagerDutyEvent
from platform_common.errors import DependencyUnavailable, TooManyRequests, error_responses

router = APIRouter(tags=["pagerduty"])


def _invalid(errors: list[str], status_code: int = 400, message: str = "Event object is invalid") -> Response:
    return json_response({"status": "invalid event", "message": message, "errors": errors}, status_code=status_code)


@router.post(
    "/v2/enqueue",
    status_code=202,
    response_model=PagerDutyAccepted,
    summary="PagerDuty Events API v2: trigger, acknowledge, resolve",
    description=(
        "Wire-compatible with PagerDuty's Events API v2. Its 400, 429 and (up to"
        " MAX_BODY_BYTES) 413 answers are PagerDuty-shaped"
        ' (`{"status": "invalid event", "message": ..., "errors": [...]}`), the one'
        ' deliberate exception to the platform\'s `{"detail": ...}` envelope, so that'
        " PagerDuty senders (Alertmanager, pdpyras) understand them. A body over"
        " MAX_BODY_BYTES and a 503 are in the usual envelope."
    ),
    responses={
        400: {"model": PagerDutyInvalid, "description": "invalid event (including an unknown routing_key)"},
        413: {
            "description": "event over 512 KB (PagerDuty's shape), or body over MAX_BODY_BYTES (envelope)",
            "content": {
                "application/json": {
                    "schema": {
                        "anyOf": [
                            {"$ref": "#/components/schemas/PagerDutyInvalid"},
                            {"$ref": "#/components/schemas/ErrorEnvelope"},
                        ]
                    }
                }
            },
        },
        429: {
            "model": PagerDutyThrottled,
            "description": "throttle event: too many events for this routing_key; retry after `Retry-After` seconds",
            "headers": error_responses(TooManyRequests)[429]["headers"],
        },
        **error_responses(DependencyUnavailable),
    },
)
async def enqueue(request: Request) -> Response:
    """A hot route: served by a plain Starlette route (main._hot_routes), so it
    takes only the request and reads the per-process objects from app.state."""
    state = request.app.state
    ingestor, keys, limiter = state.ingestor, state.integration_keys, state.rate_limiter
    body = await request.body()
    if len(body) > MAX_EVENT_BYTES:
        return _invalid([f"Event exceeds the {MAX_EVENT_BYTES // 1024} KB limit"], 413, "Event object is too large")
    try:
        event = PagerDutyEvent.model_validate_json(body)
    except ValidationError as exc:
        if is_malformed_json(exc):
            return _invalid(["Malformed JSON"], message="Malformed JSON in request body")
        return _invalid(error_messages(exc))
    integration = await keys.resolve(event.routing_key)
    if integration is None:
        return _invalid(["routing_key: unknown or revoked integration key"])
    if wait := limiter.check(integration.id):
        # PagerDuty's throttle answer; senders (Alertmanager, pdpyras) retry on 429.
        return json_response(
            {"status": "throttle event", "message": "Requests for this integration are arriving too quickly."},
            429,
            headers={"Retry-After": str(max(1, math.ceil(wait)))},
        )
    dedup_key = event.dedup_key or pagerduty.generated_dedup_key(str(uuid.uuid4()))
    alert = pagerduty.to_alert(event, service=integration.service, dedup_key=dedup_key)
    await ingestor.ingest(alert, integration_id=integration.id)
    return json_response({"status": "success", "message": "Event processed", "dedup_key": dedup_key}, 202)
