"""Notification tables, owned by notification-service (schema history: migrations/versions/0003_notifications.py)."""

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, CheckConstraint, ForeignKey, Index, String, Text, UniqueConstraint, func, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from platform_db.enums import (
    ATTEMPT_RESULTS,
    CHANNELS,
    NOTIFICATION_EVENTS,
    NOTIFICATION_STATUSES,
    SEVERITIES,
    in_check,
)
from platform_db.models.base import Base


class NotificationRequest(Base):
    """One notify call; its idempotency key makes a repeat find the same notifications."""

    __tablename__ = "notification_requests"
    __table_args__ = (
        CheckConstraint(in_check("event", NOTIFICATION_EVENTS), name="ck_notification_requests_event"),
        # The retention's walk, oldest first (migration 0022_notification_retention).
        Index("ix_notification_requests_created_at", "created_at"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    idempotency_key: Mapped[str | None] = mapped_column(String(255), unique=True)
    event: Mapped[str] = mapped_column(String(20))
    # NULL for a notice that concerns no incident (a test page, a shift notice; migration 0012).
    incident_id: Mapped[uuid.UUID | None]
    user_id: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(server_default=func.current_timestamp())


class Notification(Base):
    """One delivery of one page over one channel."""

    __tablename__ = "notifications"
    __table_args__ = (
        CheckConstraint(in_check("event", NOTIFICATION_EVENTS), name="ck_notifications_event"),
        CheckConstraint(in_check("channel", CHANNELS), name="ck_notifications_channel"),
        CheckConstraint(in_check("status", NOTIFICATION_STATUSES), name="ck_notifications_status"),
        CheckConstraint(in_check("severity", SEVERITIES), name="ck_notifications_severity"),
        CheckConstraint("attempts >= 0 AND max_attempts >= 1", name="ck_notifications_attempts"),
        CheckConstraint(
            "status = 'suppressed' OR (channel IS NOT NULL AND target IS NOT NULL)", name="ck_notifications_target"
        ),
        CheckConstraint("(status = 'delivered') = (delivered_at IS NOT NULL)", name="ck_notifications_delivered"),
        # One request never pages the same address twice over the same channel.
        UniqueConstraint("request_id", "channel", "target", name="uq_notifications_request_target"),
        # The worker's queue: only live rows are indexed, so it stays small however long history grows.
        Index("ix_notifications_due", "next_attempt_at", postgresql_where=text("status IN ('pending', 'sending')")),
        Index("ix_notifications_incident_id", "incident_id", "created_at"),
        Index("ix_notifications_recipient", "recipient", "created_at"),
        Index("ix_notifications_created_at", "created_at"),
        # The result reports owed to callers: only rows that owe one are indexed.
        Index("ix_notifications_callback_due", "callback_due_at", postgresql_where=text("callback_due_at IS NOT NULL")),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    request_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("notification_requests.id", ondelete="CASCADE"))
    # Copied from the request so history reads without a join.
    idempotency_key: Mapped[str | None] = mapped_column(String(255))
    incident_id: Mapped[uuid.UUID | None]
    event: Mapped[str] = mapped_column(String(20))
    recipient: Mapped[str] = mapped_column(String(2048))
    # NULL only on the one `suppressed` row that records "nothing deliverable".
    channel: Mapped[str | None] = mapped_column(String(10))
    target: Mapped[str | None] = mapped_column(String(2048))
    severity: Mapped[str] = mapped_column(String(10))
    # What the templates render: the incident as the caller sent it, and its message.
    payload: Mapped[dict[str, Any]]
    status: Mapped[str] = mapped_column(String(10), server_default="pending")
    attempts: Mapped[int] = mapped_column(default=0, server_default="0")
    max_attempts: Mapped[int] = mapped_column(server_default="5")
    # When pending: the earliest next try. When sending: the lease's expiry.
    next_attempt_at: Mapped[datetime] = mapped_column(server_default=func.current_timestamp())
    # The claim of the worker holding the row: it writes its result only while
    # the token is still its own (a late, abandoned worker cannot).
    lock_token: Mapped[uuid.UUID | None]
    locked_at: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(server_default=func.current_timestamp())
    updated_at: Mapped[datetime] = mapped_column(server_default=func.current_timestamp())
    delivered_at: Mapped[datetime | None]
    # Where the final result (delivered / failed) is reported, if the caller asked.
    # `callback_due_at`: a report is owed (the next try, or the lease of the worker
    # sending it); NULL once it was taken, or when none is owed.
    callback_url: Mapped[str | None] = mapped_column(String(2048))
    callback_due_at: Mapped[datetime | None]
    callback_attempts: Mapped[int] = mapped_column(default=0, server_default="0")

    attempt_history: Mapped[list["NotificationAttempt"]] = relationship(
        order_by="NotificationAttempt.attempt", lazy="raise", passive_deletes=True
    )


class NotificationAttempt(Base):
    __tablename__ = "notification_attempts"
    __table_args__ = (
        CheckConstraint(in_check("result", ATTEMPT_RESULTS), name="ck_attempts_result"),
        UniqueConstraint("notification_id", "attempt", name="uq_attempts_notification_attempt"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    notification_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("notifications.id", ondelete="CASCADE"))
    attempt: Mapped[int]
    result: Mapped[str] = mapped_column(String(20))
    error: Mapped[str | None] = mapped_column(Text)
    response_status: Mapped[int | None]
    duration_ms: Mapped[float]
    started_at: Mapped[datetime]
