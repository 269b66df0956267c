"""Reads and writes of notifications. Keyword-only, and none of them commits:
the request or the worker cycle owns the transaction."""

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, case, delete, func, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased, selectinload

from platform_common import queue
from platform_db.models import Notification, NotificationAttempt, NotificationRequest

LIVE_STATUSES = ("pending", "sending")


async def get_request_by_key(session: AsyncSession, *, idempotency_key: str) -> NotificationRequest | None:
    """The request sent with this idempotency key, or None."""
    return await session.scalar(
        select(NotificationRequest).where(NotificationRequest.idempotency_key == idempotency_key)
    )


async def taken_keys(session: AsyncSession, *, idempotency_keys: list[str]) -> set[str]:
    """Which of these idempotency keys a stored request has (one query for a batch)."""
    if not idempotency_keys:
        return set()
    query = select(NotificationRequest.idempotency_key).where(NotificationRequest.idempotency_key.in_(idempotency_keys))
    return {key for key in (await session.scalars(query)) if key is not None}


async def add_request(session: AsyncSession, *, request: NotificationRequest) -> bool:
    """Store a notify request; False when its idempotency key is taken (on PostgreSQL
    the insert waits for a racing request with the same key to commit, then does
    nothing). One statement: no savepoint to set and release around it."""
    values = {column.key: getattr(request, column.key) for column in NotificationRequest.__table__.columns}
    stored = await session.scalar(
        insert(NotificationRequest)
        .values(**values)
        .on_conflict_do_nothing(index_elements=[NotificationRequest.idempotency_key])
        .returning(NotificationRequest.id)
    )
    return stored is not None


def add_notifications(session: AsyncSession, *, notifications: list[Notification]) -> None:
    """Store a request's notifications (written with the transaction's next flush)."""
    session.add_all(notifications)


async def request_notifications(session: AsyncSession, *, request_id: uuid.UUID) -> list[Notification]:
    """The notifications a request created."""
    rows = await session.scalars(
        select(Notification)
        .where(Notification.request_id == request_id)
        .options(selectinload(Notification.attempt_history))
        .order_by(Notification.created_at, Notification.id)
    )
    return list(rows)


async def get_notification(session: AsyncSession, *, notification_id: uuid.UUID) -> Notification | None:
    """One notification by id, or None."""
    return await session.scalar(
        select(Notification)
        .where(Notification.id == notification_id)
        .options(selectinload(Notification.attempt_history))
    )


async def list_notifications(
    session: AsyncSession,
    *,
    incident_id: uuid.UUID | None = None,
    recipient: str | None = None,
    status: str | None = None,
    channel: str | None = None,
    limit: int,
    offset: int,
) -> tuple[list[Notification], int]:
    """Newest first, with each notification's attempts."""
    conditions = []
    if incident_id is not None:
        conditions.append(Notification.incident_id == incident_id)
    if recipient is not None:
        conditions.append(Notification.recipient == recipient)
    if status is not None:
        conditions.append(Notification.status == status)
    if channel is not None:
        conditions.append(Notification.channel == channel)
    total = await session.scalar(select(func.count()).select_from(Notification).where(*conditions)) or 0
    rows = await session.scalars(
        select(Notification)
        .where(*conditions)
        .options(selectinload(Notification.attempt_history))
        .order_by(Notification.created_at.desc(), Notification.id)
        .limit(limit)
        .offset(offset)
    )
    return list(rows), total


async def claim_due(session: AsyncSession, *, now: datetime, lease_until: datetime, limit: int) -> list[Notification]:
    """Due rows (pending and ripe, or sending with an expired lease: a dead
    worker's), their lease (`next_attempt_at`) moved to `lease_until`. The rows
    come back as they were otherwise, so the caller sees which were abandoned.

    A row waits while an older one to the same address is not due (waiting for
    its retry, or being sent): a person's pages reach them in the order they
    were made, a receiver that was down gets its backlog oldest first. Without
    this, pages made during a webhook's outage overtook the older ones waiting
    for their retry (66 of 200 out of order, bench/faults.py webhook-500:90)."""
    earlier = aliased(Notification)
    waits_behind = (
        select(earlier.id)
        .where(
            earlier.recipient == Notification.recipient,
            earlier.channel == Notification.channel,
            earlier.target == Notification.target,
            earlier.status.in_(LIVE_STATUSES),
            earlier.created_at < Notification.created_at,
            earlier.next_attempt_at > now,
        )
        .correlate(Notification)
        .exists()
    )
    return await queue.claim(
        session,
        Notification,
        due=[Notification.status.in_(LIVE_STATUSES), ~waits_behind],
        order_by=[Notification.created_at],
        lease=Notification.next_attempt_at,
        now=now,
        lease_until=lease_until,
        limit=limit,
    )


def add_attempt(
    session: AsyncSession,
    *,
    notification_id: uuid.UUID,
    attempt: int,
    result: str,
    error: str | None,
    response_status: int | None,
    duration_ms: float,
    started_at: datetime,
) -> None:
    """Record one delivery attempt of a notification."""
    session.add(
        NotificationAttempt(
            notification_id=notification_id,
            attempt=attempt,
            result=result,
            error=error,
            response_status=response_status,
            duration_ms=duration_ms,
            started_at=started_at,
        )
    )


async def finish_claim(
    session: AsyncSession, *, notification_id: uuid.UUID, lock_token: uuid.UUID, values: dict[str, Any]
) -> bool:
    """Write an attempt's outcome if the claim is still ours; False when the lease
    ran out and another worker took the row over (it owns the row now)."""
    return await queue.finish(
        session,
        Notification,
        key=notification_id,
        values={"lock_token": None, **values},  # a column name, not a password  # nosec B105
        still_ours=[Notification.lock_token == lock_token, Notification.status == "sending"],
    )


def now_if_callback(now: datetime) -> ColumnElement[Any]:
    """`now` for a row whose caller asked for its result, else NULL (nothing owed)."""
    return case((Notification.callback_url.is_not(None), now), else_=None)


async def claim_reports(
    session: AsyncSession, *, now: datetime, lease_until: datetime, limit: int
) -> list[Notification]:
    """Final results owed to callers, due now; `callback_due_at` is their lease."""
    return await queue.claim(
        session,
        Notification,
        due=Notification.callback_due_at.is_not(None),
        order_by=[Notification.updated_at],
        lease=Notification.callback_due_at,
        now=now,
        lease_until=lease_until,
        limit=limit,
    )


async def finish_reports(session: AsyncSession, *, reports: list[tuple[uuid.UUID, int, datetime | None]]) -> None:
    """Record reports' attempts, (notification id, how many so far, when it is due again
    or None: sent) each, in one statement for them all."""
    await queue.finish_many(
        session,
        Notification,
        outcomes=[(key, {"callback_attempts": n, "callback_due_at": due}) for key, n, due in reports],
    )


async def delete_expired_requests(session: AsyncSession, *, created_before: datetime, limit: int) -> int:
    """Delete up to `limit` requests created before `created_before`, oldest first, none of
    whose notifications is live or owes its caller a report (their notifications and attempts
    go with them: ON DELETE CASCADE); returns how many. Rows another transaction holds are
    skipped, not waited for: the next cycle takes them."""
    held = (
        select(Notification.id)
        .where(
            Notification.request_id == NotificationRequest.id,
            Notification.status.in_(LIVE_STATUSES) | Notification.callback_due_at.is_not(None),
        )
        .exists()
    )
    expired = (
        select(NotificationRequest.id)
        .where(NotificationRequest.created_at < created_before, ~held)
        .order_by(NotificationRequest.created_at)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    result = await session.execute(
        delete(NotificationRequest).where(NotificationRequest.id.in_(expired.scalar_subquery()))
    )
    return result.rowcount
