"""Alerts in monthly partitions (issue 28, "tables that stay bounded"), the
biggest table (about ten million rows a year), so their history can later be
dropped a month at a time, as the timeline's is (0018_retention).

Why and how:
- `alerts` is partitioned by `received_at` (RANGE, one partition per UTC month,
  `alerts_pYYYYMM`, and `alerts_default` for an alert no month holds, so an
  insert never fails); its primary key becomes `(id, received_at)` (a
  partitioned table's unique constraints hold the partition key; ids stay
  unique, they are UUIDs made by ingestion).
- The unique partial index `ux_alerts_open_opener` (one open incident opened
  per (dedup_scope, fingerprint), ingest_alerts()'s guarantee in the database,
  test_ingest_rule.py) cannot exist on a partitioned table: it lacks the
  partition key. Its rule now lives in `alert_open_openers`, primary key
  (dedup_scope, fingerprint), kept by triggers on `alerts`
  (database/sql/0019_alert_partitions/alert_partitions.sql), so a second open
  opener is still a unique violation, from any writer. No service may write it.
- Partition DDL needs the table's owner: alert_ingestion calls
  `alerts_add_partitions`, SECURITY DEFINER and owned by the migration role, as
  incident_management does for the timeline.

The upgrade copies the rows into the partitioned table (one rewrite, at
upgrade time); the downgrade copies them back into a plain table and gives
back the unique index.

Revision ID: 0019_alert_partitions
Revises: 0018_retention
Create Date: 2026-12-07
"""

from collections.abc import Sequence

from alembic import op

from frozen_sql import install

revision: str = "0019_alert_partitions"
down_revision: str | None = "0018_retention"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SQL_FILES = {
    "0019_alert_partitions/alert_partitions.sql": "3ed94f41b49891314b1489a151e4572eb31fecf68f3b7168bab08f603736b1b4",
}
ADD = "alerts_add_partitions(timestamptz, integer)"
KEEP = "alert_open_openers_keep()"
# Months created ahead at upgrade.
AHEAD = 3
WRITE = "SELECT, INSERT, UPDATE, DELETE"
# Spelled out as 0014_quiet made it: a later change must not change this step.
ALERT_SEARCH = "(source || ' ' || (labels)::text)"
# As 0013_grouping made it.
INCIDENT_ALERTS_VIEW = """
CREATE VIEW incident_alerts AS
SELECT id, incident_id, integration_id, format, source, service, severity, message, labels, fingerprint,
       dedup_key, status, action, event_timestamp, received_at, acknowledged_at, resolved_at,
       trigger_count, last_seen_at, reason, reason_alert_id
  FROM alerts
"""
OPENER = "action = 'created' AND status <> 'resolved'"
# The indexes of alerts (0004_alerts .. 0014_quiet), made again on the new table.
INDEXES = {
    "ix_alerts_incident_id": "(incident_id, status)",
    "ix_alerts_received_at": "(received_at)",
    "ix_alerts_service_received_at": "(service, received_at)",
    "ix_alerts_open_fingerprint": "(dedup_scope, fingerprint, received_at) WHERE status <> 'resolved'",
    "ix_alerts_openers": "(service, severity, received_at) WHERE action = 'created'",
    "ix_alerts_search": f"USING gin ({ALERT_SEARCH} gin_trgm_ops)",
}


def _set_aside() -> None:
    """Take the view off, and rename alerts out of the way without its indexes (the copy reads it whole)."""
    op.execute("DROP VIEW incident_alerts")
    op.execute("ALTER TABLE alerts RENAME TO alerts_old")
    op.execute("ALTER TABLE alerts_old RENAME CONSTRAINT alerts_pkey TO alerts_old_pkey")
    for name in INDEXES:
        op.execute(f"DROP INDEX {name}")


def _move_in(primary_key: str) -> None:
    """Give the new alerts what the old had, copy the rows in, drop the old table, put the view back."""
    op.execute(
        f"ALTER TABLE alerts ADD CONSTRAINT alerts_pkey PRIMARY KEY ({primary_key}),"
        " ADD CONSTRAINT alerts_integration_id_fkey FOREIGN KEY (integration_id)"
        " REFERENCES integrations (id) ON DELETE SET NULL"
    )
    for name, definition in INDEXES.items():
        op.execute(f"CREATE INDEX {name} ON alerts {definition}")
    op.execute("INSERT INTO alerts SELECT * FROM alerts_old")
    op.execute("DROP TABLE alerts_old")
    op.execute(f"GRANT {WRITE} ON alerts TO alert_ingestion")
    op.execute(INCIDENT_ALERTS_VIEW)
    op.execute("GRANT SELECT ON incident_alerts TO incident_management")


def upgrade() -> None:
    _set_aside()
    op.execute(
        "CREATE TABLE alerts (LIKE alerts_old INCLUDING DEFAULTS INCLUDING CONSTRAINTS)"
        " PARTITION BY RANGE (received_at)"
    )
    op.execute("CREATE TABLE alerts_default PARTITION OF alerts DEFAULT")
    op.execute(
        "CREATE TABLE alert_open_openers ("
        " dedup_scope varchar(250) NOT NULL, fingerprint varchar(255) NOT NULL, alert_id uuid NOT NULL,"
        " CONSTRAINT alert_open_openers_pkey PRIMARY KEY (dedup_scope, fingerprint))"
    )
    op.execute("CREATE UNIQUE INDEX ux_alert_open_openers_alert_id ON alert_open_openers (alert_id)")
    install(SQL_FILES)
    op.execute(f"REVOKE EXECUTE ON FUNCTION {ADD}, {KEEP} FROM PUBLIC")
    op.execute(f"GRANT EXECUTE ON FUNCTION {ADD} TO alert_ingestion")
    # Only the openers' changes: a repeat counted on an open opener (the common update) fires nothing.
    op.execute(
        f"CREATE TRIGGER alert_open_openers_insert AFTER INSERT ON alerts FOR EACH ROW"
        f" WHEN (NEW.action = 'created' AND NEW.status <> 'resolved') EXECUTE FUNCTION {KEEP}"
    )
    op.execute(
        "CREATE TRIGGER alert_open_openers_update AFTER UPDATE ON alerts FOR EACH ROW"
        " WHEN ((OLD.action = 'created' AND OLD.status <> 'resolved')"
        " IS DISTINCT FROM (NEW.action = 'created' AND NEW.status <> 'resolved')"
        " OR (NEW.action = 'created' AND NEW.status <> 'resolved'"
        " AND (OLD.dedup_scope, OLD.fingerprint, OLD.id) IS DISTINCT FROM (NEW.dedup_scope, NEW.fingerprint, NEW.id)))"
        f" EXECUTE FUNCTION {KEEP}"
    )
    op.execute(
        f"CREATE TRIGGER alert_open_openers_delete AFTER DELETE ON alerts FOR EACH ROW"
        f" WHEN (OLD.action = 'created' AND OLD.status <> 'resolved') EXECUTE FUNCTION {KEEP}"
    )
    # Every month the existing alerts fall in, up to AHEAD months after this one.
    op.execute(
        f"""
        SELECT alerts_add_partitions(first, (
                   extract(year FROM age(date_trunc('month', now()), date_trunc('month', first))) * 12
                 + extract(month FROM age(date_trunc('month', now()), date_trunc('month', first))))::integer
                 + {AHEAD})
          FROM (SELECT least(min(received_at), now()) AS first FROM alerts_old) AS oldest
        """
    )
    _move_in("id, received_at")


def downgrade() -> None:
    _set_aside()
    op.execute("CREATE TABLE alerts (LIKE alerts_old INCLUDING DEFAULTS INCLUDING CONSTRAINTS)")
    op.execute("DROP TABLE alert_open_openers")
    op.execute(f"DROP FUNCTION {ADD}, {KEEP} CASCADE")
    _move_in("id")
    op.execute(f"CREATE UNIQUE INDEX ux_alerts_open_opener ON alerts (dedup_scope, fingerprint) WHERE {OPENER}")
