"""The alerts' retention (issue 28, "tables that stay bounded"): a month of
alerts is dropped whole once it is older than alert-ingestion's
ALERT_RETENTION_DAYS, as the timeline's months are (0018_retention).

Why and how:
- Alerts are the biggest table (about ten million rows a year); 0019 put them
  in monthly partitions so that a month can go as a catalog change instead of
  a DELETE that rewrites the table.
- A month goes only when none of its alerts is still needed: none belongs to
  an incident that is unresolved, resolved within the retention, or not opened
  yet, and none is an open opener (its guard row in alert_open_openers would
  outlive it: TRUNCATE and DROP fire no row trigger). The rule and its reasons
  are in database/sql/0020_alert_retention/alert_retention.sql.
- Incidents are not touched: their MTTA/MTTR outlive their alerts.
- alert_ingestion calls `alerts_empty_partition` and `alerts_drop_partition`,
  SECURITY DEFINER and owned by the migration role, as incident_management
  does for the timeline: the service does not become the owner of alerts.
- Not one function shared with the timeline's: 0018's functions are frozen,
  and what holds a month differs (entries of incidents; alerts of incidents,
  owed incidents and open openers), so only the twenty lines of the two steps
  would be shared.

No data moves: the upgrade adds functions, the downgrade drops them.

Revision ID: 0020_alert_retention
Revises: 0019_alert_partitions
Create Date: 2026-12-08
"""

from collections.abc import Sequence

from alembic import op

from frozen_sql import install

revision: str = "0020_alert_retention"
down_revision: str | None = "0019_alert_partitions"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SQL_FILES = {
    "0020_alert_retention/alert_retention.sql": "a3465c06b93dcb0bf24866cbd810a232a54877f21c62a3bd9c9ed05a2ac245f4",
}
EMPTY = "alerts_empty_partition(timestamptz)"
DROP = "alerts_drop_partition(timestamptz)"
EXPIRED = "alerts_expired(timestamptz)"


def upgrade() -> None:
    install(SQL_FILES)
    op.execute(f"REVOKE EXECUTE ON FUNCTION {EMPTY}, {DROP}, {EXPIRED} FROM PUBLIC")
    op.execute(f"GRANT EXECUTE ON FUNCTION {EMPTY}, {DROP} TO alert_ingestion")


def downgrade() -> None:
    op.execute(f"DROP FUNCTION {EMPTY}, {DROP}, {EXPIRED}")
