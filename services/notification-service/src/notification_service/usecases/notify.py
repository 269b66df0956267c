"""Accepting a notify request: store one notification per delivery, before any is tried."""

import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from notification_service.db import queries
from notification_service.domain.recipients import Target, UserProfile, plan_deliveries
from platform_db.models import Notification, NotificationRequest


@dataclass(frozen=True)
class NotifyCommand:
    """A request to page someone about an incident."""

    idempotency_key: str | None
    event: str
    incident: dict
    user_id: str | None
    targets: tuple[Target, ...]
    message: str | None
    callback_url: str | None = None
    # Signed one-click acknowledge/resolve URLs for this recipient, made by the caller.
    actions: dict[str, str] | None = None


@dataclass(frozen=True)
class Accepted:
    """What a notify request created (or found, for a repeated idempotency key)."""

    created: bool
    idempotency_key: str | None
    notifications: list[Notification]


async def find_replay(session: AsyncSession, *, idempotency_key: str) -> Accepted | None:
    """The answer already given to this key, if any."""
    existing = await queries.get_request_by_key(session, idempotency_key=idempotency_key)
    if existing is None:
        return None
    notifications = await queries.request_notifications(session, request_id=existing.id)
    return Accepted(False, idempotency_key, notifications)


async def accept(
    session: AsyncSession, *, command: NotifyCommand, user: UserProfile | None, now: datetime, max_attempts: int
) -> Accepted:
    """Store the request and its notifications (pending, or suppressed with the reason).

    Two racing requests with one key: the unique key makes the second insert
    fail (on PostgreSQL it waits for the first to commit), and it answers with
    the first one's notifications instead.
    """
    request = NotificationRequest(
        id=uuid.uuid4(),
        idempotency_key=command.idempotency_key,
        event=command.event,
        incident_id=uuid.UUID(command.incident["id"]),
        user_id=command.user_id,
        created_at=now,
    )
    try:
        async with session.begin_nested():
            session.add(request)
            await session.flush()
    except IntegrityError:
        if command.idempotency_key is None:
            raise
        replay = await find_replay(session, idempotency_key=command.idempotency_key)
        if replay is None:
            raise
        return replay

    plan = plan_deliveries(user=user, targets=command.targets, severity=command.incident["severity"])
    payload = {"incident": command.incident, "message": command.message, "actions": command.actions}
    notifications = [
        Notification(
            id=uuid.uuid4(),
            request_id=request.id,
            idempotency_key=command.idempotency_key,
            incident_id=request.incident_id,
            event=command.event,
            recipient=delivery.recipient,
            channel=delivery.channel,
            target=delivery.target,
            severity=command.incident["severity"],
            payload=payload,
            status=delivery.status,
            attempts=0,
            max_attempts=max_attempts,
            next_attempt_at=now,
            last_error=delivery.suppressed_reason,
            # Suppressed rows are final in the answer itself: nothing to report later.
            callback_url=command.callback_url if delivery.status == "pending" else None,
            created_at=now,
            updated_at=now,
            attempt_history=[],
        )
        for delivery in plan
    ]
    session.add_all(notifications)
    await session.flush()
    # The order a replay reads them back in, so both answers look the same.
    notifications.sort(key=lambda n: str(n.id))
    return Accepted(True, command.idempotency_key, notifications)
