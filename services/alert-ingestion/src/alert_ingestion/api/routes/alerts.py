"""The platform's own format, and reading stored alerts."""

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, Response

from alert_ingestion.api.deps import SessionDep, sender, within_rate
from alert_ingestion.api.responses import accepted, json_response, parse_body
from alert_ingestion.api.schemas import AlertPage, AlertRead
from alert_ingestion.db import queries
from alert_ingestion.domain.alert import Severity
from alert_ingestion.formats import generic
from alert_ingestion.formats.generic import GenericAlertIn
from platform_common.auth import VIEWER
from platform_common.errors import Forbidden, NotFound
from platform_common.validation import AwareUtcDatetime, NulFree, Offset
from platform_db.enums import AlertAction, AlertFormat, AlertStatus

router = APIRouter(prefix="/api/v1/alerts", tags=["alerts"])


async def post_alert(request: Request) -> Response:
    """POST /api/v1/alerts, a hot route: a plain Starlette route (api/hot_routes.py,
    which also documents it), so it takes only the request and reads the
    per-process objects from app.state."""
    integration = await sender(request)
    alert_in = parse_body(GenericAlertIn, await request.body())
    if alert_in.service is not None and alert_in.service != integration.service:
        # A key speaks for its own service only; otherwise any key could page any team.
        raise Forbidden(f"This integration key sends alerts for service {integration.service!r} only")
    within_rate(request, integration)
    alert = generic.to_alert(alert_in, service=integration.service)
    outcome = await request.app.state.ingestor.ingest(alert, integration_id=integration.id)
    return json_response(accepted(outcome), status_code=202)


@router.get("", response_model=AlertPage, summary="List alerts, newest first", dependencies=[Depends(VIEWER)])
async def list_alerts(
    session: SessionDep,
    service: NulFree | None = None,
    severity: Severity | None = None,
    status: AlertStatus | None = None,
    action: Annotated[
        AlertAction | None, Query(description="what ingestion did with it; `suppressed`: a maintenance window held it")
    ] = None,
    incident_id: uuid.UUID | None = None,
    fingerprint: NulFree | None = None,
    source: Annotated[
        AlertFormat | None,
        Query(description="the format the alert arrived in"),
    ] = None,
    since: Annotated[AwareUtcDatetime | None, Query(description="received at or after (ISO 8601 with offset)")] = None,
    until: Annotated[AwareUtcDatetime | None, Query(description="received before (ISO 8601 with offset)")] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Offset = 0,
) -> Response:
    items, total = await queries.list_alerts(
        session,
        filters={
            "service": service,
            "severity": severity,
            "status": status,
            "action": action,
            "incident_id": incident_id,
            "fingerprint": fingerprint,
            "format": source,
        },
        since=since,
        until=until,
        limit=limit,
        offset=offset,
    )
    page = AlertPage(items=[AlertRead.model_validate(a) for a in items], total=total, limit=limit, offset=offset)
    return json_response(page)


@router.get(
    "/{alert_id}",
    response_model=AlertRead,
    summary="One alert, with the payload it came with",
    dependencies=[Depends(VIEWER)],
)
async def get_alert(alert_id: uuid.UUID, session: SessionDep) -> Response:
    alert = await queries.get_alert(session, alert_id=alert_id)
    if alert is None:
        raise NotFound(f"Alert {alert_id} not found")
    return json_response(AlertRead.model_validate(alert))
