"""Alertmanager (version 4) and Grafana-managed alerting webhooks. Both need an
integration key: `Authorization: Bearer <key>` (Alertmanager's
`http_config.authorization.credentials`, Grafana's contact point header)."""

from typing import Any

from fastapi import APIRouter, Depends, Request, Response

from alert_ingestion.api.deps import IngestorDep, sender, within_rate
from alert_ingestion.api.responses import accepted, json_response, parse_body
from alert_ingestion.api.schemas import WebhookAccepted
from alert_ingestion.domain.alert import Format
from alert_ingestion.formats import alertmanager
from alert_ingestion.formats.alertmanager import AlertmanagerWebhook, GrafanaWebhook
from alert_ingestion.usecases.ingest import Ingestor
from platform_common.auth import INTEGRATION_KEY
from platform_common.errors import BadRequest, TooManyRequests, Unauthorized, Unprocessable, error_responses

router = APIRouter(prefix="/api/v1/webhooks", tags=["webhooks"])


async def _receive(request: Request, ingestor: Ingestor, model: type[AlertmanagerWebhook], fmt: Format) -> Response:
    integration = await sender(request)
    # The whole group is validated before anything is stored.
    webhook = parse_body(model, await request.body())
    within_rate(request, integration, len(webhook.alerts))
    results = []
    for alert in alertmanager.to_alerts(webhook, service=integration.service, fmt=fmt):
        results.append(accepted(await ingestor.ingest(alert, integration_id=integration.id)))
    return json_response({"status": "accepted", "alerts": results}, 202)


def _inlined(schema: dict[str, Any]) -> dict[str, Any]:
    """A model's JSON schema with its `$defs` put where they are referred to:
    pydantic's `#/$defs/...` refers to the root of a standalone schema, which
    inside an OpenAPI document is the document itself, where they are not.
    (The webhook models are not recursive.)"""
    defs = schema.pop("$defs", {})

    def resolve(node: Any) -> Any:
        if isinstance(node, dict):
            ref = node.get("$ref", "")
            if ref.startswith("#/$defs/"):
                return resolve(defs[ref.removeprefix("#/$defs/")])
            return {key: resolve(value) for key, value in node.items()}
        if isinstance(node, list):
            return [resolve(item) for item in node]
        return node

    return resolve(schema)


def _documented(model: type[AlertmanagerWebhook]) -> dict[str, Any]:
    """The body and answers of a webhook route, which reads its body itself (so
    that the integration key is checked before the body is parsed)."""
    return {
        "response_model": WebhookAccepted,
        "openapi_extra": {
            "requestBody": {
                "required": True,
                "content": {"application/json": {"schema": _inlined(model.model_json_schema())}},
            }
        },
        "responses": error_responses(
            BadRequest,
            Unauthorized,
            413,
            Unprocessable,
            TooManyRequests,
            s401="missing, unknown or revoked integration key",
        ),
    }


@router.post(
    "/alertmanager",
    status_code=202,
    summary="Prometheus Alertmanager webhook (version 4)",
    dependencies=[Depends(INTEGRATION_KEY)],
    **_documented(AlertmanagerWebhook),
)
async def alertmanager_webhook(request: Request, ingestor: IngestorDep) -> Response:
    return await _receive(request, ingestor, AlertmanagerWebhook, "alertmanager")


@router.post(
    "/grafana",
    status_code=202,
    summary="Grafana-managed alerting webhook",
    dependencies=[Depends(INTEGRATION_KEY)],
    **_documented(GrafanaWebhook),
)
async def grafana_webhook(request: Request, ingestor: IngestorDep) -> Response:
    return await _receive(request, ingestor, GrafanaWebhook, "grafana")
