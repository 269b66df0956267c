"""Notifications (one delivery of one page over one channel) and their attempts.

Why: a page is stored before any delivery is tried, and a worker delivers
from this table (SKIP LOCKED on PostgreSQL), so a crash loses nothing and
several replicas never send the same notification twice.

Revision ID: 0003_notifications
Revises: 0002_incidents
Create Date: 2026-11-23
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from columns import created_updated, id_column, in_check, serial_id_column, timestamp

revision: str = "0003_notifications"
down_revision: str | None = "0002_incidents"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

CHANNELS = ("webhook", "slack", "email", "log")
STATUSES = ("pending", "sending", "delivered", "failed", "suppressed")
ATTEMPT_RESULTS = ("success", "retryable_error", "permanent_error")


def upgrade() -> None:
    op.create_table(
        "notifications",
        id_column(),
        sa.Column("idempotency_key", sa.String(255), unique=True),
        sa.Column("incident_id", sa.Uuid()),
        sa.Column("event", sa.String(20), nullable=False),
        sa.Column("recipient", sa.String(200), nullable=False),
        sa.Column("channel", sa.String(10), nullable=False),
        sa.Column("target", sa.String(2048), nullable=False),
        sa.Column("severity", sa.String(10)),
        sa.Column("payload", sa.JSON(), nullable=False, server_default=sa.text("'{}'")),
        sa.Column("status", sa.String(10), nullable=False, server_default="pending"),
        sa.Column("attempts", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("max_attempts", sa.Integer(), nullable=False, server_default="5"),
        timestamp("next_attempt_at", default_now=True),
        sa.Column("last_error", sa.Text()),
        *created_updated(),
        timestamp("delivered_at", nullable=True),
        sa.CheckConstraint(in_check("channel", CHANNELS), name="ck_notifications_channel"),
        sa.CheckConstraint(in_check("status", STATUSES), name="ck_notifications_status"),
        sa.CheckConstraint("attempts >= 0 AND max_attempts >= 1", name="ck_notifications_attempts"),
    )
    due = sa.text("status IN ('pending', 'sending')")
    op.create_index(
        "ix_notifications_due", "notifications", ["next_attempt_at"], postgresql_where=due, sqlite_where=due
    )
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
