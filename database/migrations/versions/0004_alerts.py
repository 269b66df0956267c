"""Integrations (the keys alerts come in through), alerts, and the outbox of
incident updates that ingestion owes incident-management.

Why: ingestion stores every accepted alert, finds its incident by fingerprint
among unresolved alerts of the same integration (a PagerDuty dedup_key only
matches within its own routing_key), and keeps only hashes of integration
keys. Acknowledge/resolve events change the alert here at once and queue the
incident change in `alert_incident_actions`, so a down incident-management
delays that change but never loses it.

Revision ID: 0004_alerts
Revises: 0003_notifications
Create Date: 2026-11-23
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from columns import SEVERITIES, created_updated, id_column, in_check, timestamp

revision: str = "0004_alerts"
down_revision: str | None = "0003_notifications"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

INTEGRATION_TYPES = ("generic", "pagerduty", "alertmanager", "grafana")
ALERT_STATUSES = ("triggered", "acknowledged", "resolved")
ALERT_ACTIONS = ("created", "correlated", "deduplicated")
INCIDENT_ACTIONS = ("acknowledge", "resolve")
ACTION_STATUSES = ("pending", "done", "failed")


def upgrade() -> None:
    op.create_table(
        "integrations",
        id_column(),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("service", sa.String(200), nullable=False),
        sa.Column("type", sa.String(20), nullable=False),
        # SHA-256 of the key; the key itself is shown once at creation.
        sa.Column("key_hash", sa.String(64), nullable=False, unique=True),
        sa.Column("key_prefix", sa.String(12), nullable=False),
        timestamp("created_at", default_now=True),
        timestamp("revoked_at", nullable=True),
        sa.CheckConstraint(in_check("type", INTEGRATION_TYPES), name="ck_integrations_type"),
        sa.CheckConstraint("length(name) > 0 AND length(service) > 0", name="ck_integrations_names"),
    )

    op.create_table(
        "alerts",
        id_column(),
        sa.Column("incident_id", sa.Uuid(), sa.ForeignKey("incidents.id", ondelete="SET NULL")),
        sa.Column("integration_id", sa.Uuid(), sa.ForeignKey("integrations.id", ondelete="SET NULL")),
        # Where a fingerprint is unique: the integration's id, or "service:<name>"
        # for generic alerts sent without a key.
        sa.Column("dedup_scope", sa.String(250), nullable=False),
        # The format it arrived in (generic, pagerduty, alertmanager, grafana).
        sa.Column("format", sa.String(20), nullable=False),
        sa.Column("source", sa.String(255), nullable=False),
        sa.Column("service", sa.String(200), nullable=False),
        sa.Column("severity", sa.String(10), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("labels", sa.JSON(), nullable=False, server_default=sa.text("'{}'")),
        sa.Column("fingerprint", sa.String(255), nullable=False),
        sa.Column("dedup_key", sa.String(255)),
        sa.Column("status", sa.String(15), nullable=False, server_default="triggered"),
        sa.Column("action", sa.String(15), nullable=False),
        timestamp("event_timestamp", nullable=True),
        timestamp("received_at", default_now=True),
        timestamp("acknowledged_at", nullable=True),
        timestamp("resolved_at", nullable=True),
        sa.Column("payload", sa.JSON()),
        sa.CheckConstraint(in_check("severity", SEVERITIES), name="ck_alerts_severity"),
        sa.CheckConstraint(in_check("status", ALERT_STATUSES), name="ck_alerts_status"),
        sa.CheckConstraint(in_check("action", ALERT_ACTIONS), name="ck_alerts_action"),
        sa.CheckConstraint(in_check("format", INTEGRATION_TYPES), name="ck_alerts_format"),
        sa.CheckConstraint("(status = 'resolved') = (resolved_at IS NOT NULL)", name="ck_alerts_resolved_at"),
    )
    op.create_index("ix_alerts_incident_id", "alerts", ["incident_id", "status"])
    op.create_index("ix_alerts_received_at", "alerts", ["received_at"])
    op.create_index("ix_alerts_service_received_at", "alerts", ["service", "received_at"])
    open_alerts = sa.text("status <> 'resolved'")
    # Dedup and acknowledge/resolve look up the unresolved alerts of one
    # fingerprint; dedup wants the newest, which received_at gives without a
    # sort even when a flapping alert has thousands of repeats.
    op.create_index(
        "ix_alerts_open_fingerprint",
        "alerts",
        ["dedup_scope", "fingerprint", "received_at"],
        postgresql_where=open_alerts,
    )

    # Incident changes ingestion owes incident-management (acknowledge/resolve
    # through its API, so MTTA/MTTR are recorded there). Written in the same
    # transaction as the alert change; sent right after commit and, while
    # incident-management is down, retried by any replica (SKIP LOCKED).
    op.create_table(
        "alert_incident_actions",
        id_column(),
        sa.Column("incident_id", sa.Uuid(), sa.ForeignKey("incidents.id", ondelete="CASCADE"), nullable=False),
        sa.Column("action", sa.String(15), nullable=False),
        sa.Column("status", sa.String(10), nullable=False, server_default="pending"),
        sa.Column("attempts", sa.Integer(), nullable=False, server_default="0"),
        timestamp("next_attempt_at", default_now=True),
        sa.Column("last_error", sa.Text()),
        *created_updated(),
        sa.CheckConstraint(in_check("action", INCIDENT_ACTIONS), name="ck_alert_incident_actions_action"),
        sa.CheckConstraint(in_check("status", ACTION_STATUSES), name="ck_alert_incident_actions_status"),
    )
    pending = sa.text("status = 'pending'")
    op.create_index(
        "ix_alert_incident_actions_pending",
        "alert_incident_actions",
        ["next_attempt_at"],
        postgresql_where=pending,
    )
    op.create_index("ix_alert_incident_actions_incident", "alert_incident_actions", ["incident_id", "status"])


def downgrade() -> None:
    op.drop_table("alert_incident_actions")
    op.drop_table("alerts")
    op.drop_table("integrations")
