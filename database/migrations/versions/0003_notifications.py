"""Notify requests, the notifications (one delivery of one page over one
channel) they fan out to, and every delivery attempt.

Why: a page is stored before any delivery is tried, and a worker delivers
from `notifications` (SKIP LOCKED on PostgreSQL), so a crash loses nothing
and several replicas never work on the same notification at once. A worker
that dies mid-send leaves its row in `sending` with a lease
(`next_attempt_at`) that expires, and the row becomes due again.

`notification_requests` holds the caller's idempotency key: one request fans
out to several notifications, and a repeat with the same key must find the
same ones, so the key is unique per request, not per notification.

Revision ID: 0003_notifications
Revises: 0002_incidents
Create Date: 2026-11-23
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from columns import SEVERITIES, id_column, in_check, serial_id_column, timestamp

revision: str = "0003_notifications"
down_revision: str | None = "0002_incidents"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

EVENTS = ("triggered", "escalated", "acknowledged", "resolved")
CHANNELS = ("webhook", "slack", "email", "log")
STATUSES = ("pending", "sending", "delivered", "failed", "suppressed")
# `abandoned`: the worker holding the row died (or stalled past its lease) mid-attempt.
ATTEMPT_RESULTS = ("success", "retryable_error", "permanent_error", "abandoned")


def upgrade() -> None:
    op.create_table(
        "notification_requests",
        id_column(),
        sa.Column("idempotency_key", sa.String(255), unique=True),
        sa.Column("event", sa.String(20), nullable=False),
        sa.Column("incident_id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.String(64)),
        timestamp("created_at", default_now=True),
        sa.CheckConstraint(in_check("event", EVENTS), name="ck_notification_requests_event"),
    )

    op.create_table(
        "notifications",
        id_column(),
        sa.Column(
            "request_id", sa.Uuid(), sa.ForeignKey("notification_requests.id", ondelete="CASCADE"), nullable=False
        ),
        # Copied from the request so history reads without a join.
        sa.Column("idempotency_key", sa.String(255)),
        sa.Column("incident_id", sa.Uuid(), nullable=False),
        sa.Column("event", sa.String(20), nullable=False),
        sa.Column("recipient", sa.String(2048), nullable=False),
        # NULL only on the one `suppressed` row that records "nothing deliverable".
        sa.Column("channel", sa.String(10)),
        sa.Column("target", sa.String(2048)),
        sa.Column("severity", sa.String(10), nullable=False),
        # What the templates render: the incident as the caller sent it, and its message.
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(10), nullable=False, server_default="pending"),
        sa.Column("attempts", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("max_attempts", sa.Integer(), nullable=False, server_default="5"),
        # When pending: the earliest next try. When sending: the lease's expiry.
        timestamp("next_attempt_at", default_now=True),
        # The claim of the worker holding the row: it writes its result only
        # while the token is still its own (a late, abandoned worker cannot).
        sa.Column("lock_token", sa.Uuid()),
        timestamp("locked_at", nullable=True),
        sa.Column("last_error", sa.Text()),
        timestamp("created_at", default_now=True),
        timestamp("updated_at", default_now=True),
        timestamp("delivered_at", nullable=True),
        sa.CheckConstraint(in_check("event", EVENTS), name="ck_notifications_event"),
        sa.CheckConstraint(in_check("channel", CHANNELS), name="ck_notifications_channel"),
        sa.CheckConstraint(in_check("status", STATUSES), name="ck_notifications_status"),
        sa.CheckConstraint(in_check("severity", SEVERITIES), name="ck_notifications_severity"),
        sa.CheckConstraint("attempts >= 0 AND max_attempts >= 1", name="ck_notifications_attempts"),
        sa.CheckConstraint(
            "status = 'suppressed' OR (channel IS NOT NULL AND target IS NOT NULL)", name="ck_notifications_target"
        ),
        sa.CheckConstraint("(status = 'delivered') = (delivered_at IS NOT NULL)", name="ck_notifications_delivered"),
        # One request never pages the same address twice over the same channel.
        sa.UniqueConstraint("request_id", "channel", "target", name="uq_notifications_request_target"),
    )
    due = sa.text("status IN ('pending', 'sending')")
    # The worker's queue: only live rows are indexed, so it stays small however long history grows.
    op.create_index("ix_notifications_due", "notifications", ["next_attempt_at"], postgresql_where=due)
    op.create_index("ix_notifications_incident_id", "notifications", ["incident_id", "created_at"])
    op.create_index("ix_notifications_recipient", "notifications", ["recipient", "created_at"])
    op.create_index("ix_notifications_created_at", "notifications", ["created_at"])

    op.create_table(
        "notification_attempts",
        serial_id_column(),
        sa.Column("notification_id", sa.Uuid(), sa.ForeignKey("notifications.id", ondelete="CASCADE"), nullable=False),
        sa.Column("attempt", sa.Integer(), nullable=False),
        sa.Column("result", sa.String(20), nullable=False),
        sa.Column("error", sa.Text()),
        sa.Column("response_status", sa.Integer()),
        sa.Column("duration_ms", sa.Float(), nullable=False),
        timestamp("started_at"),
        sa.CheckConstraint(in_check("result", ATTEMPT_RESULTS), name="ck_attempts_result"),
        sa.UniqueConstraint("notification_id", "attempt", name="uq_attempts_notification_attempt"),
    )


def downgrade() -> None:
    op.drop_table("notification_attempts")
    op.drop_table("notifications")
    op.drop_table("notification_requests")
