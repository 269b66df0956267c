"""Incidents, their notes, their append-only timeline, and the page outbox.

Why: the incident service's state machine, MTTA/MTTR and escalation timers
live here, in the database, so any replica can drive them. The timeline is
guarded by triggers so history cannot be edited, only appended to.

Revision ID: 0002_incidents
Revises: 0001_oncall
Create Date: 2026-11-23
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from columns import SEVERITIES, created_updated, id_column, in_check, serial_id_column, timestamp

revision: str = "0002_incidents"
down_revision: str | None = "0001_oncall"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

STATUSES = ("open", "acknowledged", "in_progress", "resolved")
# pending: not yet accepted by notification-service (kept and retried while it is down);
# sent: accepted; failed: refused for good (4xx); cancelled: the incident was
# acknowledged or resolved before the page could go out, so it must not go out.
PAGE_STATUSES = ("pending", "sent", "failed", "cancelled")


def upgrade() -> None:
    op.create_table(
        "incidents",
        id_column(),
        sa.Column("title", sa.String(500), nullable=False),
        sa.Column("description", sa.Text(), nullable=False, server_default=""),
        sa.Column("service", sa.String(200), nullable=False),
        sa.Column("team", sa.String(200)),
        sa.Column("severity", sa.String(10), nullable=False),
        sa.Column("status", sa.String(20), nullable=False, server_default="open"),
        sa.Column("assigned_to", sa.String(200)),
        # Where the incident came from: the API, or ingestion's direct-to-DB
        # fallback when this service was down (picked up later for assignment).
        sa.Column("origin", sa.String(30), nullable=False, server_default="api"),
        sa.Column("needs_assignment", sa.Boolean(), nullable=False, server_default=sa.false()),
        sa.Column("alert_count", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("escalation_policy_id", sa.Uuid()),
        sa.Column("escalation_level", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("escalation_cycle", sa.Integer(), nullable=False, server_default="0"),
        timestamp("next_escalation_at", nullable=True),
        # Work-queue bookkeeping of the background loop (any replica may run it):
        # a claim lease so two replicas never work on the same incident at once
        # without holding a row lock across HTTP calls, and a retry schedule for
        # oncall-service outages (consecutive failures drive the backoff).
        timestamp("claimed_until", nullable=True),
        timestamp("next_assignment_at", nullable=True),
        sa.Column("dependency_failures", sa.Integer(), nullable=False, server_default="0"),
        # Optimistic concurrency: every state change bumps it, so two racing
        # responders cannot both win.
        sa.Column("version", sa.Integer(), nullable=False, server_default="1"),
        *created_updated(),
        timestamp("acknowledged_at", nullable=True),
        timestamp("resolved_at", nullable=True),
        sa.Column("mtta_seconds", sa.Float()),
        sa.Column("mttr_seconds", sa.Float()),
        sa.CheckConstraint(in_check("severity", SEVERITIES), name="ck_incidents_severity"),
        sa.CheckConstraint(in_check("status", STATUSES), name="ck_incidents_status"),
        sa.CheckConstraint("alert_count >= 0", name="ck_incidents_alert_count"),
        sa.CheckConstraint("(status = 'resolved') = (resolved_at IS NOT NULL)", name="ck_incidents_resolved_at"),
        sa.CheckConstraint("mtta_seconds IS NULL OR mtta_seconds >= 0", name="ck_incidents_mtta"),
        sa.CheckConstraint("mttr_seconds IS NULL OR mttr_seconds >= 0", name="ck_incidents_mttr"),
    )
    op.create_index("ix_incidents_created_at", "incidents", ["created_at"])
    op.create_index("ix_incidents_status_created_at", "incidents", ["status", "created_at"])
    op.create_index("ix_incidents_service_created_at", "incidents", ["service", "created_at"])
    op.create_index("ix_incidents_assigned_to", "incidents", ["assigned_to"])
    unresolved = sa.text("status <> 'resolved'")
    # Correlation looks up open incidents of a service and severity inside a time window.
    op.create_index(
        "ix_incidents_unresolved",
        "incidents",
        ["service", "severity", "created_at"],
        postgresql_where=unresolved,
    )
    due = sa.text("next_escalation_at IS NOT NULL")
    op.create_index("ix_incidents_escalation_due", "incidents", ["next_escalation_at"], postgresql_where=due)
    pending = sa.text("needs_assignment")
    op.create_index("ix_incidents_needs_assignment", "incidents", ["created_at"], postgresql_where=pending)

    op.create_table(
        "incident_notes",
        id_column(),
        sa.Column("incident_id", sa.Uuid(), sa.ForeignKey("incidents.id", ondelete="CASCADE"), nullable=False),
        sa.Column("author", sa.String(200), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        timestamp("created_at", default_now=True),
        sa.CheckConstraint("length(body) > 0", name="ck_incident_notes_body"),
    )
    op.create_index("ix_incident_notes_incident_id", "incident_notes", ["incident_id", "created_at"])

    op.create_table(
        "incident_timeline",
        serial_id_column(),
        sa.Column("incident_id", sa.Uuid(), sa.ForeignKey("incidents.id", ondelete="RESTRICT"), nullable=False),
        sa.Column("event_type", sa.String(50), nullable=False),
        sa.Column("actor", sa.String(200), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("data", sa.JSON(), nullable=False, server_default=sa.text("'{}'")),
        timestamp("created_at", default_now=True),
    )
    op.create_index("ix_incident_timeline_incident_id", "incident_timeline", ["incident_id", "id"])
    _forbid_timeline_changes()

    # The outbox of pages: one row per (incident, step) so a retry after a
    # crash or an outage sends each step's page exactly once.
    op.create_table(
        "incident_pages",
        id_column(),
        sa.Column("incident_id", sa.Uuid(), sa.ForeignKey("incidents.id", ondelete="CASCADE"), nullable=False),
        sa.Column("step_key", sa.String(200), nullable=False),
        sa.Column("recipient", sa.String(200), nullable=False),
        sa.Column("event", sa.String(20), nullable=False),
        # Sent as notification-service's idempotency_key: a page retried after a
        # timeout or a crash is recognised there and never delivered twice.
        sa.Column("idempotency_key", sa.String(255), nullable=False, unique=True),
        sa.Column("status", sa.String(10), nullable=False, server_default="pending"),
        sa.Column("attempts", sa.Integer(), nullable=False, server_default="0"),
        timestamp("next_attempt_at", default_now=True),
        # The deliveries notification-service created for this page, with their
        # last known status; `tracking` while some are not final yet, so the loop
        # polls them and writes `notified` / `notification_failed` to the timeline.
        sa.Column("notifications", sa.JSON(), nullable=False, server_default=sa.text("'[]'")),
        sa.Column("tracking", sa.Boolean(), nullable=False, server_default=sa.false()),
        sa.Column("last_error", sa.Text()),
        *created_updated(),
        timestamp("sent_at", nullable=True),
        sa.CheckConstraint(in_check("status", PAGE_STATUSES), name="ck_incident_pages_status"),
        sa.UniqueConstraint("incident_id", "step_key", "recipient", name="uq_incident_pages_step"),
    )
    pending_pages = sa.text("status = 'pending'")
    op.create_index(
        "ix_incident_pages_pending",
        "incident_pages",
        ["next_attempt_at"],
        postgresql_where=pending_pages,
    )
    tracking = sa.text("tracking")
    op.create_index(
        "ix_incident_pages_tracking",
        "incident_pages",
        ["next_attempt_at"],
        postgresql_where=tracking,
    )


def _forbid_timeline_changes() -> None:
    op.execute(
        """
            CREATE FUNCTION incident_timeline_append_only() RETURNS trigger AS $$
            BEGIN
                RAISE EXCEPTION 'incident_timeline is append-only';
            END
            $$ LANGUAGE plpgsql
            """
    )
    op.execute(
        "CREATE TRIGGER incident_timeline_append_only BEFORE UPDATE OR DELETE ON incident_timeline"
        " FOR EACH ROW EXECUTE FUNCTION incident_timeline_append_only()"
    )


def downgrade() -> None:
    op.drop_table("incident_pages")
    op.execute("DROP TRIGGER IF EXISTS incident_timeline_append_only ON incident_timeline")
    op.execute("DROP FUNCTION IF EXISTS incident_timeline_append_only()")
    op.drop_table("incident_timeline")
    op.drop_table("incident_notes")
    op.drop_table("incidents")
