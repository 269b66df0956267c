"""`POST /api/v1/notify`: accept a page for delivery (stored before any attempt)."""

from fastapi import APIRouter, Depends, Response, status

from notification_service.api.deps import ClockDep, SessionDep, SettingsDep, WorkerDep
from notification_service.api.schemas import NotifyAccepted, NotifyIn
from notification_service.domain.recipients import ContactMethod, Target, UserProfile
from notification_service.metrics import NOTIFICATIONS_SENT
from notification_service.usecases import notify
from platform_common.auth import PLATFORM_ONLY

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
            session,
            idempotency_key=body.idempotency_key,
            event=body.event,
            incident=body.incident.model_dump(mode="json") if body.incident else None,
            user=_user(body),
            targets=tuple(Target(t.channel, t.target) for t in body.targets or ()),
            message=body.message,
            callback_url=str(body.callback_url) if body.callback_url else None,
            actions=body.actions.model_dump(mode="json") if body.actions else None,
            now=clock.now(),
            max_attempts=settings.notification_max_attempts,
        )
    if accepted.duplicate:
        response.status_code = status.HTTP_200_OK
        return NotifyAccepted.model_validate(accepted)
    for notification in accepted.notifications:
        if notification.status == "suppressed":
            NOTIFICATIONS_SENT.labels(notification.channel or "none", "suppressed").inc()
    if worker is not None:
        worker.wake()
    return NotifyAccepted.model_validate(accepted)


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
