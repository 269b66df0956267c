"""Integrations (the keys alerts come in through) and alerts.

Why: ingestion stores every accepted alert, finds its incident by fingerprint
among unresolved alerts, and keeps only hashes of integration keys.

Revision ID: 0004_alerts
Revises: 0003_notifications
Create Date: 2026-11-23
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from columns import SEVERITIES, id_column, in_check, timestamp

revision: str = "0004_alerts"
down_revision: str | None = "0003_notifications"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

INTEGRATION_TYPES = ("generic", "pagerduty", "alertmanager", "grafana")
ALERT_STATUSES = ("triggered", "acknowledged", "resolved")


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
    )

    op.create_table(
        "alerts",
        id_column(),
        sa.Column("incident_id", sa.Uuid(), sa.ForeignKey("incidents.id", ondelete="SET NULL")),
        sa.Column("integration_id", sa.Uuid(), sa.ForeignKey("integrations.id", ondelete="SET NULL")),
        sa.Column("source", sa.String(200), nullable=False),
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
        timestamp("resolved_at", nullable=True),
        sa.Column("payload", sa.JSON()),
        sa.CheckConstraint(in_check("severity", SEVERITIES), name="ck_alerts_severity"),
        sa.CheckConstraint(in_check("status", ALERT_STATUSES), name="ck_alerts_status"),
        sa.CheckConstraint(in_check("action", ("created", "correlated", "deduplicated")), name="ck_alerts_action"),
    )
    op.create_index("ix_alerts_incident_id", "alerts", ["incident_id"])
    op.create_index("ix_alerts_received_at", "alerts", ["received_at"])
    op.create_index("ix_alerts_service_received_at", "alerts", ["service", "received_at"])
    open_alerts = sa.text("status <> 'resolved'")
    op.create_index(
        "ix_alerts_open_fingerprint",
        "alerts",
        ["fingerprint"],
        postgresql_where=open_alerts,
        sqlite_where=open_alerts,
    )


def downgrade() -> None:
    op.drop_table("alerts")
    op.drop_table("integrations")
