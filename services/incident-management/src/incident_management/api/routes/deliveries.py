"""`POST /api/v1/incidents/{id}/deliveries`: notification-service reports a delivery's final result.

The push that replaced polling: notification-service stores each report with
the result and retries it until this answers, so nothing is lost while this
service is down, and a repeat is recognised and not recorded twice.
"""

import uuid

from fastapi import APIRouter, Depends, status

from incident_management.api.deps import ClockDep, SessionDep
from incident_management.api.schemas import DeliveryRecorded, DeliveryResult
from incident_management.db import pages
from incident_management.usecases import paging
from platform_common.auth import PLATFORM_ONLY
from platform_common.errors import NotFound

router = APIRouter(prefix="/api/v1/incidents", tags=["incidents"])


@router.post(
    "/{incident_id}/deliveries",
    status_code=status.HTTP_200_OK,
    summary="A delivery's final result, from notification-service; into the page and the timeline",
    responses={404: {"description": "No page of this incident has that idempotency key"}},
    dependencies=[Depends(PLATFORM_ONLY)],
)
async def record_delivery(
    incident_id: uuid.UUID, body: DeliveryResult, session: SessionDep, clock: ClockDep
) -> DeliveryRecorded:
    delivery = {
        "id": str(body.notification_id),
        "channel": body.channel,
        "target": body.target,
        "status": body.status,
        "error": body.error,
    }
    async with session.begin():
        page = await pages.page_by_key(session, incident_id=incident_id, idempotency_key=body.idempotency_key)
        if page is None:
            raise NotFound(f"Incident {incident_id} has no page {body.idempotency_key!r}")
        recorded = paging.record_result(session, page=page, delivery=delivery, now=clock.now())
    return DeliveryRecorded(recorded=recorded)
