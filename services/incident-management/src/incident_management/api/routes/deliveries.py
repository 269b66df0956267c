"""`POST /api/v1/incidents/{id}/deliveries`: notification-service reports a delivery's final result
(and `POST /api/v1/incidents/deliveries/batch`, many of them in one request).

The push that replaced polling: notification-service stores each report with
the result and retries it until this answers, so nothing is lost while this
service is down, and a repeat is recognised and not recorded twice.
"""

import uuid

from fastapi import APIRouter, Depends, status

from incident_management.api.batch import per_item
from incident_management.api.deps import ClockDep, SessionDep
from incident_management.api.schemas import (
    DeliveryBatchItemResult,
    DeliveryBatchResult,
    DeliveryRecorded,
    DeliveryResult,
    DeliveryResultBatch,
    DeliveryResultItem,
)
from incident_management.usecases import paging
from platform_common.auth import PLATFORM_ONLY
from platform_common.errors import DomainError, NotFound, error_responses
from platform_common.validation import first_error

router = APIRouter(prefix="/api/v1/incidents", tags=["incidents"])


def _delivery(body: DeliveryResult) -> dict[str, object]:
    return {
        "id": str(body.notification_id),
        "channel": body.channel,
        "target": body.target,
        "status": body.status,
        "error": body.error,
    }


@router.post(
    "/deliveries/batch",
    status_code=status.HTTP_200_OK,
    summary="Many deliveries' final results in one request (at most 100), from notification-service: a result per item",
    description=(
        "Each item is a body of `POST /api/v1/incidents/{id}/deliveries` plus its `incident_id`, validated and"
        " recorded as that route would alone, and answers its own `status_code`: 200 recorded (`recorded`"
        " false for a repeat), 404 the incident has no page with that idempotency key, 422 refused with"
        " `detail`. The recorded ones commit together in one transaction."
    ),
    responses=error_responses(422, s422="not a list of 1 to 100 items (an invalid item is answered in its result)"),
    dependencies=[Depends(PLATFORM_ONLY)],
)
async def record_deliveries(body: DeliveryResultBatch, session: SessionDep, clock: ClockDep) -> DeliveryBatchResult:
    # One request and one commit for many results: at 50 new incidents a second one
    # report per delivery was about a third of notification-service's CPU.

    async def record(valid: list[DeliveryResultItem]) -> list[bool | DomainError]:
        async with session.begin():
            return await paging.record_deliveries(
                session,
                results=[
                    {"incident_id": r.incident_id, "idempotency_key": r.idempotency_key, "delivery": _delivery(r)}
                    for r in valid
                ],
                now=clock.now(),
            )

    def answer(_item: DeliveryResultItem, outcome: bool | DomainError) -> DeliveryBatchItemResult:
        if isinstance(outcome, DomainError):
            code = 404 if isinstance(outcome, NotFound) else 422
            return DeliveryBatchItemResult(status_code=code, detail=str(outcome.detail))
        return DeliveryBatchItemResult(status_code=200, recorded=outcome)

    results = await per_item(
        body.items,
        DeliveryResultItem,
        refused=lambda _raw, exc: DeliveryBatchItemResult(status_code=422, detail=first_error(exc)),
        run=record,
        answer=answer,
    )
    return DeliveryBatchResult(results=results)


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
    async with session.begin():
        recorded = await paging.record_delivery(
            session,
            incident_id=incident_id,
            idempotency_key=body.idempotency_key,
            delivery=_delivery(body),
            now=clock.now(),
        )
    return DeliveryRecorded(recorded=recorded)
