"""Accepting a notify request: store one notification per delivery, before any is tried."""

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from notification_service.db import queries
from notification_service.domain.recipients import PlannedDelivery, Target, UserProfile, plan_deliveries
from platform_common.errors import Conflict
from platform_db.models import Notification, NotificationRequest


@dataclass(frozen=True)
class Accepted:
    """What a notify request created (or found, for a repeated idempotency key)."""

    created: bool
    idempotency_key: str | None
    notifications: list[Notification]

    @property
    def duplicate(self) -> bool:
        """True when this repeats an earlier request: nothing new was stored."""
        return not self.created


@dataclass(frozen=True)
class Request:
    """One page to accept: whom (a user with their contact methods, and/or explicit
    targets), about what, and where to report each delivery's result."""

    idempotency_key: str | None
    event: str
    incident: dict[str, Any] | None
    user: UserProfile | None
    targets: tuple[Target, ...]
    message: str | None
    callback_url: str | None
    actions: dict[str, str] | None


async def accept_many(
    session: AsyncSession, requests: list[Request], *, now: datetime, max_attempts: int
) -> list[Accepted | Conflict]:
    """Accept each request as `accept` does, in the caller's one transaction: the keys
    are looked up in one query (a key never seen skips its own look-up), and a key
    repeated within the batch replays its first. Each request's own answer, in order."""
    keys = [request.idempotency_key for request in requests if request.idempotency_key]
    fresh = set(keys) - await queries.taken_keys(session, idempotency_keys=keys)
    answers: list[Accepted | Conflict] = []
    # The notifications go in at the commit, all in one statement: each request's insert
    # flushed the one before's notifications, a statement (and a flush) per page.
    with session.no_autoflush:
        for request in requests:
            key_is_new = request.idempotency_key in fresh
            fresh.discard(request.idempotency_key)
            try:
                answers.append(
                    await accept(session, request, now=now, max_attempts=max_attempts, key_is_new=key_is_new)
                )
            except Conflict as exc:
                answers.append(exc)
    return answers


async def accept(
    session: AsyncSession, page: Request, *, now: datetime, max_attempts: int, key_is_new: bool = False
) -> Accepted:
    """Store the request and its notifications (pending, or suppressed with the
    reason); for an idempotency key seen before, answer what was stored then.

    Two racing requests with one key: the unique key makes the second insert
    do nothing (on PostgreSQL it waits for the first to commit), and it answers
    with the first one's notifications instead. `key_is_new`: the caller found
    no request with this key (`accept_many`), so the look-up here is skipped; a
    racing request is still caught by the insert.
    """
    idempotency_key, incident = page.idempotency_key, page.incident
    if idempotency_key and not key_is_new and (replay := await _replay(session, idempotency_key)):
        return replay
    request = NotificationRequest(
        id=uuid.uuid4(),
        idempotency_key=idempotency_key,
        event=page.event,
        incident_id=uuid.UUID(incident["id"]) if incident else None,
        user_id=page.user.id if page.user else None,
        created_at=now,
    )
    if not await queries.add_request(session, request=request):  # its key was taken meanwhile
        if replay := await _replay(session, str(idempotency_key)):
            return replay
        raise Conflict(f"idempotency_key {idempotency_key!r} is taken, but its request cannot be read")
    payload = {"incident": incident, "message": page.message, "actions": page.actions}
    notifications = [
        _notification(request, delivery, payload, callback_url=page.callback_url, now=now, max_attempts=max_attempts)
        for delivery in plan_deliveries(user=page.user, targets=page.targets, severity=_severity(incident))
    ]
    queries.add_notifications(session, notifications=notifications)
    # The order a replay reads them back in, so both answers look the same.
    notifications.sort(key=lambda n: str(n.id))
    return Accepted(True, idempotency_key, notifications)


def _severity(incident: dict[str, Any] | None) -> str:
    """What the notification is filed under: the incident's severity; a notice about no incident is `info`."""
    return incident["severity"] if incident else "info"


async def _replay(session: AsyncSession, idempotency_key: str) -> Accepted | None:
    """The answer already given to this key, if any."""
    await session.flush()  # an earlier request of the batch may have its notifications still unwritten
    existing = await queries.get_request_by_key(session, idempotency_key=idempotency_key)
    if existing is None:
        return None
    return Accepted(False, idempotency_key, await queries.request_notifications(session, request_id=existing.id))


def _notification(
    request: NotificationRequest,
    delivery: PlannedDelivery,
    payload: dict[str, Any],
    *,
    callback_url: str | None,
    now: datetime,
    max_attempts: int,
) -> Notification:
    return Notification(
        id=uuid.uuid4(),
        request_id=request.id,
        idempotency_key=request.idempotency_key,
        incident_id=request.incident_id,
        event=request.event,
        recipient=delivery.recipient,
        channel=delivery.channel,
        target=delivery.target,
        severity=_severity(payload["incident"]),
        payload=payload,
        status=delivery.status,
        attempts=0,
        max_attempts=max_attempts,
        next_attempt_at=now,
        last_error=delivery.suppressed_reason,
        # Suppressed rows are final in the answer itself: nothing to report later.
        callback_url=callback_url if delivery.status == "pending" else None,
        created_at=now,
        updated_at=now,
        attempt_history=[],
    )
