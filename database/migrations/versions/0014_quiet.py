"""Noise under control: maintenance windows, heartbeats, snooze, text search.

Why:
- Maintenance windows (`maintenance_windows`, alert-ingestion's): alerts of a
  service inside a window are stored but open no incident and page no one.
  They are stored closed (action `suppressed`, status `resolved`, no
  incident), so no later alert of the same key is folded into them and the
  same alert after the window opens an incident of its own.
- Heartbeat monitors (`heartbeats`, alert-ingestion's): a dead-man's switch
  per service. A late heartbeat raises an alert through the ordinary alert
  path; a ping after that resolves it.
- Snooze (`incidents.snoozed_until`, incident-management's): an acknowledged
  incident returns to open, and pages again, when its snooze ends; the partial
  index keeps the engine's look for ended snoozes cheap.
- Search over incidents' title and service and their alerts' source and
  labels: trigram GIN indexes (pg_trgm, shipped with Debian's PostgreSQL 15
  and in the embedded PostgreSQL wheel; a trusted extension, so the database
  owner may create it) answer `ILIKE '%text%'` from the index, any word part
  and any case, which full-text search (whole words) would not.

Revision ID: 0014_quiet
Revises: 0010_correlation_off
Create Date: 2026-12-07
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014_quiet"
down_revision: str | None = "0010_correlation_off"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

WRITE = "SELECT, INSERT, UPDATE, DELETE"
# Spelled out: a later change of platform_db.enums must not change this step.
OLD_ALERT_ACTIONS = "action IN ('created', 'correlated', 'deduplicated')"
NEW_ALERT_ACTIONS = "action IN ('created', 'correlated', 'deduplicated', 'suppressed')"
INCIDENT_SEARCH = "(title || ' ' || service)"
NOW = sa.text("CURRENT_TIMESTAMP")
ALERT_SEARCH = "(source || ' ' || (labels)::text)"


def upgrade() -> None:
    op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    op.execute(f"CREATE INDEX ix_incidents_search ON incidents USING gin ({INCIDENT_SEARCH} gin_trgm_ops)")
    op.execute(f"CREATE INDEX ix_alerts_search ON alerts USING gin ({ALERT_SEARCH} gin_trgm_ops)")

    op.drop_constraint("ck_alerts_action", "alerts", type_="check")
    op.create_check_constraint("ck_alerts_action", "alerts", NEW_ALERT_ACTIONS)

    op.add_column("incidents", sa.Column("snoozed_until", sa.TIMESTAMP(timezone=True), nullable=True))
    op.create_index(
        "ix_incidents_snoozed_until",
        "incidents",
        ["snoozed_until"],
        postgresql_where=sa.text("snoozed_until IS NOT NULL"),
    )

    op.create_table(
        "maintenance_windows",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column("services", sa.ARRAY(sa.String(length=200)), nullable=False),
        sa.Column("starts_at", sa.TIMESTAMP(timezone=True), nullable=False),
        sa.Column("ends_at", sa.TIMESTAMP(timezone=True), nullable=False),
        sa.Column("description", sa.Text(), server_default="", nullable=False),
        sa.Column("created_by", sa.String(length=200), nullable=False),
        sa.Column(
            "created_at", sa.TIMESTAMP(timezone=True), server_default=sa.text("CURRENT_TIMESTAMP"), nullable=False
        ),
        sa.Column(
            "updated_at", sa.TIMESTAMP(timezone=True), server_default=sa.text("CURRENT_TIMESTAMP"), nullable=False
        ),
        sa.CheckConstraint("ends_at > starts_at", name="ck_maintenance_windows_period"),
        sa.CheckConstraint("cardinality(services) > 0", name="ck_maintenance_windows_services"),
    )
    op.create_index("ix_maintenance_windows_ends_at", "maintenance_windows", ["ends_at"])

    op.create_table(
        "heartbeats",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column("service", sa.String(length=200), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("interval_seconds", sa.Integer(), nullable=False),
        sa.Column("last_ping_at", sa.TIMESTAMP(timezone=True), nullable=True),
        sa.Column("due_at", sa.TIMESTAMP(timezone=True), nullable=False),
        sa.Column("missed_since", sa.TIMESTAMP(timezone=True), nullable=True),
        sa.Column("claimed_until", sa.TIMESTAMP(timezone=True), nullable=True),
        sa.Column(
            "created_at", sa.TIMESTAMP(timezone=True), server_default=sa.text("CURRENT_TIMESTAMP"), nullable=False
        ),
        sa.CheckConstraint("interval_seconds BETWEEN 10 AND 604800", name="ck_heartbeats_interval"),
        sa.CheckConstraint("length(name) > 0 AND length(service) > 0", name="ck_heartbeats_names"),
        sa.UniqueConstraint("service", "name", name="uq_heartbeats_service_name"),
    )
    op.create_index("ix_heartbeats_due", "heartbeats", ["due_at"], postgresql_where=sa.text("missed_since IS NULL"))

    for table in ("maintenance_windows", "heartbeats"):
        op.execute(f"GRANT {WRITE} ON {table} TO alert_ingestion")


def downgrade() -> None:
    op.drop_table("heartbeats")
    op.drop_table("maintenance_windows")
    op.drop_index("ix_incidents_snoozed_until", "incidents")
    op.drop_column("incidents", "snoozed_until")
    op.execute("DELETE FROM alerts WHERE action = 'suppressed'")
    op.drop_constraint("ck_alerts_action", "alerts", type_="check")
    op.create_check_constraint("ck_alerts_action", "alerts", OLD_ALERT_ACTIONS)
    op.drop_index("ix_alerts_search", "alerts")
    op.drop_index("ix_incidents_search", "incidents")
    # pg_trgm stays: an extension belongs to the database, and may have users besides these indexes.
