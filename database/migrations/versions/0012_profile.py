"""Self-service paging: notification rules, the high-urgency severities of a
service, "you are on call" notices, and notices that concern no incident.

Why:
- `notification_rules`: each user says how they are paged, PagerDuty-style:
  per urgency (high, low) an ordered list of steps, each a delay in minutes
  and one of their contact methods. Removing the contact method removes its
  steps (CASCADE), so no step points at nothing. oncall-service owns it.
- `services.high_urgency_severities`: which incident severities page with the
  high-urgency rules (the rest with the low-urgency ones); critical and high
  unless an admin says otherwise.
- `shift_notices`: the "you are on call" notices oncall-service owes or sent
  (start and end of a shift, the weekly summary), one row per notice by a
  unique key, so a restart never sends one twice; the row is also the queue
  its worker claims (lease on `next_attempt_at`).
- `incident_pages.due_at`: when a page is meant to go out. A later step of
  someone's notification rules is queued at once but due after its delay; the
  outbox gauges (`incident_outbox_depth`, the oldest undelivered page's age)
  count a page from when it is due, not from when it was queued, so a step
  waiting its five minutes is not an undelivered page. Existing pages were due
  when they were made.
- notification-service now also delivers notices that concern no incident (a
  contact method's test page, the shift notices): `incident_id` may be NULL
  there, and the event lists take the new kinds (`reassigned` is an incident's).

Revision ID: 0012_profile
Revises: 0013_grouping
Create Date: 2026-12-07
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from columns import id_column, in_check, timestamp

revision: str = "0012_profile"
down_revision: str | None = "0013_grouping"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

URGENCIES = ("high", "low")
NOTICE_KINDS = ("shift_start", "shift_end", "shift_summary")
NOTICE_STATUSES = ("pending", "sent", "failed")
# The event lists as 0003_notifications wrote them, and as they are now.
OLD_EVENTS = ("triggered", "escalated", "acknowledged", "resolved")
EVENTS = (*OLD_EVENTS, "reassigned", "test", "shift_start", "shift_end", "shift_summary")
WRITE = "SELECT, INSERT, UPDATE, DELETE"


def upgrade() -> None:
    op.create_table(
        "notification_rules",
        id_column(),
        sa.Column("user_id", sa.Uuid(), sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
        sa.Column("urgency", sa.String(4), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("delay_minutes", sa.Integer(), nullable=False),
        sa.Column(
            "contact_method_id",
            sa.Uuid(),
            sa.ForeignKey("contact_methods.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.CheckConstraint(in_check("urgency", URGENCIES), name="ck_notification_rules_urgency"),
        sa.CheckConstraint("position >= 0", name="ck_notification_rules_position"),
        sa.CheckConstraint("delay_minutes BETWEEN 0 AND 1440", name="ck_notification_rules_delay"),
        sa.UniqueConstraint("user_id", "urgency", "position", name="uq_notification_rules_step"),
    )
    op.create_index("ix_notification_rules_contact_method_id", "notification_rules", ["contact_method_id"])
    op.add_column(
        "services",
        sa.Column(
            "high_urgency_severities",
            sa.JSON(),
            nullable=False,
            server_default=sa.text('\'["critical", "high"]\'::json'),
        ),
    )
    op.create_table(
        "shift_notices",
        id_column(),
        sa.Column("notice_key", sa.String(255), nullable=False, unique=True),
        sa.Column("user_id", sa.Uuid(), sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("status", sa.String(10), nullable=False, server_default="pending"),
        sa.Column("attempts", sa.Integer(), nullable=False, server_default="0"),
        timestamp("next_attempt_at", default_now=True),
        sa.Column("last_error", sa.Text()),
        timestamp("created_at", default_now=True),
        timestamp("sent_at", nullable=True),
        sa.CheckConstraint(in_check("kind", NOTICE_KINDS), name="ck_shift_notices_kind"),
        sa.CheckConstraint(in_check("status", NOTICE_STATUSES), name="ck_shift_notices_status"),
    )
    op.create_index(
        "ix_shift_notices_pending", "shift_notices", ["next_attempt_at"], postgresql_where=sa.text("status = 'pending'")
    )
    op.add_column("incident_pages", sa.Column("due_at", sa.DateTime(timezone=True), nullable=True))
    op.execute("UPDATE incident_pages SET due_at = created_at")
    op.alter_column(
        "incident_pages",
        "due_at",
        existing_type=sa.DateTime(timezone=True),
        nullable=False,
        server_default=sa.func.current_timestamp(),
    )
    for table in ("notification_rules", "shift_notices"):
        op.execute(f"GRANT {WRITE} ON {table} TO oncall_service")
    for table in ("notification_requests", "notifications"):
        op.alter_column(table, "incident_id", existing_type=sa.Uuid(), nullable=True)
        op.drop_constraint(f"ck_{table}_event", table, type_="check")
        op.create_check_constraint(f"ck_{table}_event", table, in_check("event", EVENTS))


def downgrade() -> None:
    for table in ("notification_requests", "notifications"):
        op.execute(f"DELETE FROM {table} WHERE incident_id IS NULL OR event NOT IN {OLD_EVENTS!r}")
        op.drop_constraint(f"ck_{table}_event", table, type_="check")
        op.create_check_constraint(f"ck_{table}_event", table, in_check("event", OLD_EVENTS))
        op.alter_column(table, "incident_id", existing_type=sa.Uuid(), nullable=False)
    op.drop_table("shift_notices")
    op.drop_column("incident_pages", "due_at")
    op.drop_column("services", "high_urgency_severities")
    op.drop_table("notification_rules")
