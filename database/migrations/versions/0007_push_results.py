"""Delivery results pushed to the caller; the recipient's contact travels with the page.

Why:
- notification-service reports each delivery's final result (delivered, or
  failed for good) to the URL its caller gave (`callback_url`), instead of
  the caller polling for it. The report is owed in the row that holds the
  result, written in the same transaction (`callback_due_at` set), and sent
  by the delivery worker's queue with retries, so a caller that is down
  gets it when it is back. `callback_due_at` is also the report's lease
  (platform_common.queue); NULL means nothing is owed.
- incident-management no longer polls, so the tracking index of its pages
  goes.
- A page carries its recipient's contact methods and mutes, as
  oncall-service's on-call answer gave them (`contact`), so
  notification-service pages without asking oncall-service again. NULL: not
  known yet (a manual assignment), looked up before the page is sent.

Revision ID: 0007_push_results
Revises: 0006_one_owner
Create Date: 2026-12-01
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007_push_results"
down_revision: str | None = "0006_one_owner"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("notifications", sa.Column("callback_url", sa.String(2048), nullable=True))
    op.add_column("notifications", sa.Column("callback_due_at", sa.DateTime(timezone=True), nullable=True))
    op.add_column(
        "notifications", sa.Column("callback_attempts", sa.Integer(), nullable=False, server_default=sa.text("0"))
    )
    op.create_index(
        "ix_notifications_callback_due",
        "notifications",
        ["callback_due_at"],
        postgresql_where=sa.text("callback_due_at IS NOT NULL"),
    )
    op.drop_index("ix_incident_pages_tracking", "incident_pages")
    op.add_column("incident_pages", sa.Column("contact", sa.JSON(), nullable=True))


def downgrade() -> None:
    op.drop_column("incident_pages", "contact")
    op.create_index(
        "ix_incident_pages_tracking", "incident_pages", ["next_attempt_at"], postgresql_where=sa.text("tracking")
    )
    op.drop_index("ix_notifications_callback_due", "notifications")
    op.drop_column("notifications", "callback_attempts")
    op.drop_column("notifications", "callback_due_at")
    op.drop_column("notifications", "callback_url")
