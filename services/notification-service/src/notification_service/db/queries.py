"""Reads and writes of notifications. Keyword-only, and none of them commits:
the request or the worker cycle owns the transaction."""

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from platform_db.models import Notification, NotificationAttempt, NotificationRequest

LIVE_STATUSES = ("pending", "sending")


async def get_request_by_key(session: AsyncSession, *, idempotency_key: str) -> NotificationRequest | None:
    """The request sent with this idempotency key, or None."""
    return await session.scalar(
        select(NotificationRequest).where(NotificationRequest.idempotency_key == idempotency_key)
    )


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


async def lock_due(session: AsyncSession, *, now: datetime, limit: int) -> Sequence[Notification]:
    """Due rows (pending and ripe, or sending with an expired lease), locked for
    this transaction. SKIP LOCKED lets several workers share the queue
    without waiting on each other."""
    rows = await session.scalars(
        select(Notification)
        .where(Notification.status.in_(LIVE_STATUSES), Notification.next_attempt_at <= now)
        .order_by(Notification.next_attempt_at)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    return rows.all()


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
    result = await session.execute(
        update(Notification)
        .where(
            Notification.id == notification_id,
            Notification.lock_token == lock_token,
            Notification.status == "sending",
        )
        .values(lock_token=None, **values)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1
