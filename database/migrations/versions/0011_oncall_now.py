"""Paging that says why, acknowledgement timeouts, manual escalation, overrides
that say who made them.

Why (issue 26): a page said "escalated because nobody acknowledged it in time"
when the level before it simply had nobody on call, and named its recipient by
id. Each page now keeps the sentence that says why it was sent (`reason`) and
whom it is for (`recipient_name`), written when it is queued, so a page retried
an hour later still tells the truth of the moment it was decided.

A service may set `acknowledgement_timeout_minutes` (NULL: off): an
acknowledged incident left untouched that long goes back to triggered and
pages again. The incident copies the setting when it is assigned
(`incidents.acknowledgement_timeout_minutes`), as it copies the policy, so the
engine decides without asking oncall-service at acknowledgement time.

`incidents.escalation_requested_by` names who pressed "escalate now"; the
engine pages the next level and clears it.

`schedule_overrides.created_by`: who made an override (NULL for overrides made
before this revision, or by a user since deleted), so people can see whose
arrangement they are about to change or undo.

Every column is new and nullable; no row is rewritten.

Revision ID: 0011_oncall_now
Revises: 0014_quiet
Create Date: 2026-12-07
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011_oncall_now"
down_revision: str | None = "0014_quiet"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# A week: longer than that is no longer a reminder.
TIMEOUT_CHECK = "acknowledgement_timeout_minutes IS NULL OR acknowledgement_timeout_minutes BETWEEN 1 AND 10080"


def upgrade() -> None:
    op.add_column("services", sa.Column("acknowledgement_timeout_minutes", sa.Integer(), nullable=True))
    op.create_check_constraint("ck_services_ack_timeout", "services", TIMEOUT_CHECK)
    op.add_column(
        "schedule_overrides",
        sa.Column("created_by", sa.Uuid(), sa.ForeignKey("users.id", ondelete="SET NULL"), nullable=True),
    )
    op.add_column("incidents", sa.Column("acknowledgement_timeout_minutes", sa.Integer(), nullable=True))
    op.create_check_constraint("ck_incidents_ack_timeout", "incidents", TIMEOUT_CHECK)
    op.add_column("incidents", sa.Column("escalation_requested_by", sa.String(200), nullable=True))
    op.add_column("incident_pages", sa.Column("reason", sa.Text(), nullable=True))
    op.add_column("incident_pages", sa.Column("recipient_name", sa.String(200), nullable=True))


def downgrade() -> None:
    op.drop_column("incident_pages", "recipient_name")
    op.drop_column("incident_pages", "reason")
    op.drop_column("incidents", "escalation_requested_by")
    op.drop_constraint("ck_incidents_ack_timeout", "incidents")
    op.drop_column("incidents", "acknowledgement_timeout_minutes")
    op.drop_column("schedule_overrides", "created_by")
    op.drop_constraint("ck_services_ack_timeout", "services")
    op.drop_column("services", "acknowledgement_timeout_minutes")
