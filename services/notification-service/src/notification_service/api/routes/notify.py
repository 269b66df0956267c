"""`POST /api/v1/notify`: accept a page for delivery (stored before any attempt);
`POST /api/v1/notify/batch`: many pages in one request (incident-management's page
outbox), each with its own idempotency key and its own answer."""

from fastapi import APIRouter, Depends, Response, status
from pydantic import ValidationError

from notification_service.api.deps import ClockDep, SessionDep, SettingsDep, WorkerDep
from notification_service.api.schemas import (
    NotifyAccepted,
    NotifyBatchAccepted,
    NotifyBatchIn,
    NotifyIn,
    NotifyItemResult,
)
from notification_service.domain.recipients import ContactMethod, Target, UserProfile
from notification_service.metrics import NOTIFICATIONS_SENT
from notification_service.usecases import notify
from platform_common.auth import PLATFORM_ONLY
from platform_common.errors import Conflict
from platform_common.validation import first_error

router = APIRouter(prefix="/api/v1", tags=["notify"])


@router.post(
    "/notify",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=NotifyAccepted,
    summary="Page a user and/or explicit targets; 202 once stored, 200 for a repeat of an idempotency_key",
    responses={
        200: {"description": "A repeat of an earlier idempotency_key: the same notifications, nothing new"},
        422: {"description": "Invalid body (a user_id without its contact, a target that does not fit its channel)"},
    },
    # Only the platform pages: nobody may make this service mail or post to an address of their choosing.
    dependencies=[Depends(PLATFORM_ONLY)],
)
async def notify_route(
    body: NotifyIn,
    response: Response,
    session: SessionDep,
    settings: SettingsDep,
    clock: ClockDep,
    worker: WorkerDep,
) -> NotifyAccepted:
    async with session.begin():
        accepted = await notify.accept(
            session, _request(body), now=clock.now(), max_attempts=settings.notification_max_attempts
        )
    if accepted.duplicate:
        response.status_code = status.HTTP_200_OK
        return NotifyAccepted.model_validate(accepted)
    _count_suppressed(accepted)
    if worker is not None:
        worker.wake()
    return NotifyAccepted.model_validate(accepted)


@router.post(
    "/notify/batch",
    response_model=NotifyBatchAccepted,
    summary="Many notify requests in one (at most 200): all stored in one transaction, each item answered "
    "as POST /api/v1/notify would answer it",
    responses={422: {"description": "Not a list of 1 to 200 items (an invalid item is answered in its result)"}},
    dependencies=[Depends(PLATFORM_ONLY)],
)
async def notify_batch_route(
    body: NotifyBatchIn,
    session: SessionDep,
    settings: SettingsDep,
    clock: ClockDep,
    worker: WorkerDep,
) -> NotifyBatchAccepted:
    # One request and one commit for a batch of pages: at 50 new incidents a second the
    # per-request cost (HTTP, FastAPI, a transaction) of one page each was most of the CPU.
    # Each item is validated alone, so one bad page is refused without its batch.
    parsed: list[NotifyIn | str] = []
    for item in body.items:
        try:
            parsed.append(NotifyIn.model_validate(item))
        except ValidationError as exc:
            parsed.append(first_error(exc))
    valid = [_request(item) for item in parsed if isinstance(item, NotifyIn)]
    async with session.begin():
        answers = iter(
            await notify.accept_many(session, valid, now=clock.now(), max_attempts=settings.notification_max_attempts)
        )
    results = [
        NotifyItemResult(status_code=422, detail=item) if isinstance(item, str) else _result(next(answers))
        for item in parsed
    ]
    if any(result.status_code == 202 for result in results) and worker is not None:
        worker.wake()
    return NotifyBatchAccepted(results=results)


def _result(answer: notify.Accepted | Conflict) -> NotifyItemResult:
    """One item's answer, as `POST /api/v1/notify` would have given it."""
    if isinstance(answer, Conflict):
        return NotifyItemResult(status_code=409, detail=str(answer))
    if answer.created:
        _count_suppressed(answer)
    return NotifyItemResult(
        status_code=200 if answer.duplicate else 202, accepted=NotifyAccepted.model_validate(answer)
    )


def _request(body: NotifyIn) -> notify.Request:
    return notify.Request(
        idempotency_key=body.idempotency_key,
        event=body.event,
        incident=body.incident.model_dump(mode="json") if body.incident else None,
        user=_user(body),
        targets=tuple(Target(t.channel, t.target) for t in body.targets or ()),
        message=body.message,
        callback_url=str(body.callback_url) if body.callback_url else None,
        actions=body.actions.model_dump(mode="json") if body.actions else None,
    )


def _count_suppressed(accepted: notify.Accepted | NotifyAccepted) -> None:
    for notification in accepted.notifications:
        if notification.status == "suppressed":
            NOTIFICATIONS_SENT.labels(notification.channel or "none", "suppressed").inc()


def _user(body: NotifyIn) -> UserProfile | None:
    """The user to page with the contact methods and mutes the caller sent (NotifyIn requires them together)."""
    if body.user_id is None or body.contact is None:
        return None
    return UserProfile(
        id=str(body.user_id),
        name=body.contact.name,
        contact_methods=tuple(ContactMethod(m.type, m.address) for m in body.contact.contact_methods),
        muted_channels=frozenset(body.contact.muted_channels),
        muted_severities=frozenset(body.contact.muted_severities),
    )
