"""PagerDuty Events API v2, wire-compatible: point any PagerDuty sender here."""

import math
import uuid

from fastapi import Request, Response
from pydantic import ValidationError

from alert_ingestion.api.deps import client_wait, integration_wait
from alert_ingestion.api.responses import is_malformed_json, json_response
from alert_ingestion.formats import pagerduty
from alert_ingestion.formats.common import error_messages
from alert_ingestion.formats.pagerduty import MAX_EVENT_BYTES, PagerDutyEvent
from platform_common.validation import lone_surrogate


def _invalid(errors: list[str], status_code: int = 400, message: str = "Event object is invalid") -> Response:
    return json_response({"status": "invalid event", "message": message, "errors": errors}, status_code=status_code)


async def enqueue(request: Request) -> Response:
    """POST /v2/enqueue, a hot route: a plain Starlette route (api/hot_routes.py,
    which also documents it), so it takes only the request and reads the
    per-process objects from app.state."""
    if wait := client_wait(request):
        return _throttled(wait)
    body = await request.body()
    if len(body) > MAX_EVENT_BYTES:
        return _invalid([f"Event exceeds the {MAX_EVENT_BYTES // 1024} KB limit"], 413, "Event object is too large")
    try:
        event = PagerDutyEvent.model_validate_json(body)
    except ValidationError as exc:
        if not is_malformed_json(exc):
            return _invalid(error_messages(exc))
        # pydantic's parser refuses a lone surrogate as malformed; it is a bad field, named as other errors are.
        if problem := lone_surrogate(body):
            where = ".".join(str(part) for part in problem["loc"][1:])
            return _invalid([f"{where}: {problem['msg']}" if where else problem["msg"]])
        return _invalid(["Malformed JSON"], message="Malformed JSON in request body")
    integration = await request.app.state.integration_keys.resolve(event.routing_key)
    if integration is None:
        return _invalid(["routing_key: unknown or revoked integration key"])
    if wait := integration_wait(request, integration.id):
        return _throttled(wait)
    dedup_key = event.dedup_key or pagerduty.generated_dedup_key(str(uuid.uuid4()))
    alert = pagerduty.to_alert(event, service=integration.service, dedup_key=dedup_key)
    await request.app.state.ingestor.ingest(alert, integration_id=integration.id)
    return json_response({"status": "success", "message": "Event processed", "dedup_key": dedup_key}, 202)


def _throttled(wait: float) -> Response:
    # PagerDuty's throttle answer; senders (Alertmanager, pdpyras) retry on 429.
    return json_response(
        {"status": "throttle event", "message": "Requests for this integration are arriving too quickly."},
        429,
        headers={"Retry-After": str(max(1, math.ceil(wait)))},
    )
