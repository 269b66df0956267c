"""A notice of its own for an alert that joins an acknowledged incident.

Why:
- Such an alert used to reach the assignee as a `triggered` page, whose
  message offers to acknowledge an incident that is already acknowledged.
  notification-service now takes the event `alert_joined` (told with resolve
  and incident links, no acknowledge link): both event lists take it.
- Downgrade deletes the rows of that event (the old lists refuse them).

Revision ID: 0016_noise
Revises: 0012_profile
Create Date: 2026-12-07
"""

from collections.abc import Sequence

from alembic import op

from columns import in_check

revision: str = "0016_noise"
down_revision: str | None = "0012_profile"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Spelled out: a later change of platform_db.enums must not change this step.
OLD_EVENTS = (
    "triggered",
    "escalated",
    "acknowledged",
    "resolved",
    "reassigned",
    "test",
    "shift_start",
    "shift_end",
    "shift_summary",
)
EVENTS = (*OLD_EVENTS, "alert_joined")
TABLES = ("notification_requests", "notifications")


def upgrade() -> None:
    for table in TABLES:
        op.drop_constraint(f"ck_{table}_event", table, type_="check")
        op.create_check_constraint(f"ck_{table}_event", table, in_check("event", EVENTS))


def downgrade() -> None:
    for table in TABLES:
        op.execute(f"DELETE FROM {table} WHERE event = 'alert_joined'")
        op.drop_constraint(f"ck_{table}_event", table, type_="check")
        op.create_check_constraint(f"ck_{table}_event", table, in_check("event", OLD_EVENTS))
