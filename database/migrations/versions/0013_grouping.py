"""Grouping people can see and correct: a reason per alert, per-service
grouping settings, repeats counted on one row, merge and split.

Why:
- Unrelated alerts were folded silently into incidents (same service and
  severity within the window) and nobody could tell why. Each alert now stores
  why it is in its incident (`reason`, worded by the rule when it decides, and
  `reason_alert_id`, the alert it was matched with).
- Repeats of one dedup key made one identical row each; they now count on the
  alert they repeat (`trigger_count`, `last_seen_at`).
- Grouping is set per service (oncall-service's `services`):
  `correlation_window_minutes` (NULL: alert-ingestion's
  CORRELATION_WINDOW_MINUTES; 0: never by window), `grouping_fields`
  (`source`, `message`, `labels.<name>`: alerts group only when these are
  equal) and `join_acknowledged` (whether an alert may join an incident
  already acknowledged; when it does, an 'alert_joined' is owed to
  incident-management, which records it and tells the assignee: a page whose
  `reason` says so). oncall-service
  publishes them to the rule through the view `service_grouping`.
- Merge and split move alerts between incidents. Incidents are
  incident-management's and alerts ingestion's, so the move is one function,
  regroup_alerts(), run with its owner's rights and granted to
  incident-management only, taking the rule's own locks. A merged incident
  names its survivor (`incidents.merged_into`).

ingest_alerts() changes signature (its window in minutes per service instead
of one cut-off, and it returns the alert's id: a repeat answers the row it
counted), so it is dropped and created again, and its grants given again.

Revision ID: 0013_grouping
Revises: 0011_oncall_now
Create Date: 2026-12-07
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from frozen_sql import install

revision: str = "0013_grouping"
down_revision: str | None = "0011_oncall_now"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SQL_FILES = {
    "0013_grouping/ingest_alerts.sql": "a8c065097a9f7e6e7f5c0450c05c5fa06f03dc1be5980a5c428a54dad51471e9",
}
# What the downgrade puts back: the rule as 0010_correlation_off froze it.
PREVIOUS = {
    "0010_correlation_off/ingest_alerts.sql": "d71e5d29efaa767b27a0b6ce0a6f0cf7499da39868712a01a75ada5240e7ddf4",
}
INGEST = (
    "ingest_alerts(uuid[], uuid[], text[], text[], text[], text[], text[], text[], json[], text[], text[],"
    " timestamptz[], json[], timestamptz, double precision)"
)
PREVIOUS_INGEST = (
    "ingest_alerts(uuid[], uuid[], text[], text[], text[], text[], text[], text[], json[], text[], text[],"
    " timestamptz[], json[], timestamptz, timestamptz)"
)
GROUPING_VALUES = "alert_grouping_values(text[], text, text, json)"
REGROUP = "regroup_alerts(uuid[], text[], uuid[], uuid)"

SERVICE_GROUPING_VIEW = """
CREATE VIEW service_grouping AS
SELECT name, correlation_window_minutes, grouping_fields, join_acknowledged FROM services
"""

INCIDENT_ALERTS_VIEW = """
CREATE OR REPLACE VIEW incident_alerts AS
SELECT id, incident_id, integration_id, format, source, service, severity, message, labels, fingerprint,
       dedup_key, status, action, event_timestamp, received_at, acknowledged_at, resolved_at,
       trigger_count, last_seen_at, reason, reason_alert_id
  FROM alerts
"""
PREVIOUS_INCIDENT_ALERTS_VIEW = """
CREATE VIEW incident_alerts AS
SELECT id, incident_id, integration_id, format, source, service, severity, message, labels, fingerprint,
       dedup_key, status, action, event_timestamp, received_at, acknowledged_at, resolved_at
  FROM alerts
"""
# Alerts stored before this revision: the reason their action records, without the window or alert it matched.
BACKFILL_REASONS = """
UPDATE alerts SET reason = CASE action
    WHEN 'created' THEN 'first alert'
    WHEN 'correlated' THEN 'same service and severity within the correlation window'
    ELSE 'same dedup key' END
"""
OWED_ACTIONS = ("create", "acknowledge", "resolve", "alert_joined")


def upgrade() -> None:
    op.add_column("services", sa.Column("correlation_window_minutes", sa.Integer()))
    op.add_column(
        "services",
        sa.Column("grouping_fields", sa.ARRAY(sa.String(200)), nullable=False, server_default=sa.text("'{}'")),
    )
    op.add_column("services", sa.Column("join_acknowledged", sa.Boolean(), nullable=False, server_default=sa.true()))
    op.create_check_constraint(
        "ck_services_correlation_window",
        "services",
        "correlation_window_minutes IS NULL OR correlation_window_minutes BETWEEN 0 AND 10080",
    )
    op.execute(SERVICE_GROUPING_VIEW)
    op.execute("GRANT SELECT ON service_grouping TO alert_ingestion")

    op.add_column("alerts", sa.Column("trigger_count", sa.Integer(), nullable=False, server_default="1"))
    op.add_column(
        "alerts",
        sa.Column("last_seen_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
    )
    op.add_column("alerts", sa.Column("reason", sa.Text()))
    op.add_column("alerts", sa.Column("reason_alert_id", sa.Uuid()))
    op.create_check_constraint("ck_alerts_trigger_count", "alerts", "trigger_count >= 1")
    op.execute("UPDATE alerts SET last_seen_at = received_at")
    op.execute(BACKFILL_REASONS)
    op.execute(INCIDENT_ALERTS_VIEW)

    op.add_column("alert_incident_actions", sa.Column("alert_id", sa.Uuid()))
    op.drop_constraint("ck_alert_incident_actions_action", "alert_incident_actions", type_="check")
    op.create_check_constraint(
        "ck_alert_incident_actions_action",
        "alert_incident_actions",
        "action IN (" + ", ".join(f"'{a}'" for a in OWED_ACTIONS) + ")",
    )

    op.add_column("incidents", sa.Column("merged_into", sa.Uuid(), sa.ForeignKey("incidents.id")))

    install(SQL_FILES)
    op.execute(f"REVOKE EXECUTE ON FUNCTION {INGEST}, {GROUPING_VALUES}, {REGROUP} FROM PUBLIC")
    op.execute(f"GRANT EXECUTE ON FUNCTION {INGEST}, {GROUPING_VALUES} TO alert_ingestion")
    op.execute(f"GRANT EXECUTE ON FUNCTION {REGROUP} TO incident_management")
    op.execute(f"ALTER FUNCTION {REGROUP} SECURITY DEFINER SET search_path = public, pg_temp")


def downgrade() -> None:
    op.execute(f"DROP FUNCTION {REGROUP}")
    op.execute(f"DROP FUNCTION {INGEST}")
    op.execute(f"DROP FUNCTION {GROUPING_VALUES}")
    install(PREVIOUS)
    op.execute(f"REVOKE EXECUTE ON FUNCTION {PREVIOUS_INGEST} FROM PUBLIC")
    op.execute(f"GRANT EXECUTE ON FUNCTION {PREVIOUS_INGEST} TO alert_ingestion")

    op.drop_column("incidents", "merged_into")
    op.execute("DELETE FROM alert_incident_actions WHERE action = 'alert_joined'")
    op.drop_constraint("ck_alert_incident_actions_action", "alert_incident_actions", type_="check")
    op.create_check_constraint(
        "ck_alert_incident_actions_action", "alert_incident_actions", "action IN ('create', 'acknowledge', 'resolve')"
    )
    op.drop_column("alert_incident_actions", "alert_id")

    op.execute("DROP VIEW incident_alerts")
    op.execute(PREVIOUS_INCIDENT_ALERTS_VIEW)
    op.execute("GRANT SELECT ON incident_alerts TO incident_management")
    op.drop_constraint("ck_alerts_trigger_count", "alerts", type_="check")
    for column in ("reason_alert_id", "reason", "last_seen_at", "trigger_count"):
        op.drop_column("alerts", column)

    op.execute("DROP VIEW service_grouping")
    op.drop_constraint("ck_services_correlation_window", "services", type_="check")
    for column in ("join_acknowledged", "grouping_fields", "correlation_window_minutes"):
        op.drop_column("services", column)
