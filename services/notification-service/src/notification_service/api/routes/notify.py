"""`POST /api/v1/notify`: accept a page for delivery (stored before any attempt)."""

from fastapi import APIRouter, Response, status

from notification_service.api.deps import ClockDep, DirectoryDep, SessionDep, SettingsDep, WorkerDep
from notification_service.api.schemas import AcceptedNotification, NotifyAccepted, NotifyIn
from notification_service.domain.recipients import Target
from notification_service.metrics import NOTIFICATIONS_SENT
from notification_service.services import notify
from platform_common.errors import Unprocessable

router = APIRouter(prefix="/api/v1", tags=["notify"])


@router.post(
    "/notify",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=NotifyAccepted,
    summary="Page a user and/or explicit targets; 202 once stored, 200 for a repeat of an idempotency_key",
    responses={
        200: {"description": "A repeat of an earlier idempotency_key: the same notifications, nothing new"},
        422: {"description": "Invalid body, or a user_id oncall-service does not know"},
        503: {"description": "oncall-service is unavailable to resolve user_id; retry later"},
    },
)
async def notify_route(
    body: NotifyIn,
    response: Response,
    session: SessionDep,
    settings: SettingsDep,
    directory: DirectoryDep,
    clock: ClockDep,
    worker: WorkerDep,
) -> NotifyAccepted:
    if body.idempotency_key:
        replay = await notify.find_replay(session, idempotency_key=body.idempotency_key)
        if replay is not None:
            response.status_code = status.HTTP_200_OK
            return _answer(replay)
        # End the read before calling oncall-service: no transaction (nor its
        # pooled connection) is held open across a call that may take a few retries.
        await session.rollback()
    user = None
    if body.user_id is not None:
        user = await directory.get_user(str(body.user_id))
        if user is None:
            raise Unprocessable(f"user {body.user_id} is unknown to oncall-service", user_id=str(body.user_id))
    command = notify.NotifyCommand(
        idempotency_key=body.idempotency_key,
        event=body.event,
        incident=body.incident.model_dump(mode="json"),
        user_id=str(body.user_id) if body.user_id else None,
        targets=tuple(Target(t.channel, t.target) for t in body.targets or ()),
        message=body.message,
    )
    accepted = await notify.accept(
        session, command=command, user=user, now=clock.now(), max_attempts=settings.notification_max_attempts
    )
    await session.commit()
    if not accepted.created:
        response.status_code = status.HTTP_200_OK
        return _answer(accepted)
    for notification in accepted.notifications:
        if notification.status == "suppressed":
            NOTIFICATIONS_SENT.labels(notification.channel or "none", "suppressed").inc()
    if worker is not None:
        worker.wake()
    return _answer(accepted)


def _answer(accepted: notify.Accepted) -> NotifyAccepted:
    return NotifyAccepted(
        idempotency_key=accepted.idempotency_key,
        duplicate=not accepted.created,
        notifications=[
            AcceptedNotification(
                id=n.id,
                channel=n.channel,
                target=n.target,
                recipient=n.recipient,
                status=n.status,
                last_error=n.last_error,
            )
            for n in accepted.notifications
        ],
    )
