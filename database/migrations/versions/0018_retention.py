"""The incident timeline in monthly partitions, so its history can be dropped
a month at a time after the retention instead of deleted row by row.

Why:
- The timeline grows with every alert, page and acknowledgement. Deleting old
  rows would rewrite the table and fight its append-only trigger; dropping a
  partition is a catalog change, however many rows it holds.
- `incident_timeline` is partitioned by `created_at` (RANGE, one partition per
  UTC month, `incident_timeline_pYYYYMM`), its primary key becomes
  `(id, created_at)` (a partitioned table's unique constraints hold the
  partition key; ids still come from the one sequence), and a DEFAULT
  partition takes an entry no monthly partition holds, so an insert never
  fails when the worker that creates partitions ahead has not run.
- Why the timeline and not `alerts` first: alerts are updated in place for
  months (status, trigger_count, regrouping), and ingest_alerts()'s guard
  `ux_alerts_open_opener` (one open incident per fingerprint, tested in
  test_ingest_rule.py) is a unique index without the partition key, which a
  partitioned table cannot have; partitioning alerts needs that guarantee
  rebuilt first. The timeline is append-only and has no such index.
- Partition DDL needs the table's owner. incident_management does not become
  the owner (an owner may UPDATE, DELETE and switch the append-only trigger
  off); it calls two SECURITY DEFINER functions owned by the migration role,
  `incident_timeline_add_partitions`, `incident_timeline_empty_partition`
  and `incident_timeline_drop_partition`
  (database/sql/0018_retention/timeline_partitions.sql, which says why a
  month is emptied by TRUNCATE and then dropped without DETACH, under a
  lock_timeout: a detach would lock `incidents` exclusively through the
  foreign key, and a drop of a full partition holds the timeline's lock while
  its files are freed).
- Incidents themselves are not deleted: their MTTA/MTTR stay in `incidents`,
  so the stats outlive the timeline's retention.

The upgrade copies the rows into the partitioned table (one rewrite, at
upgrade time); the downgrade copies them back into a plain table.

Revision ID: 0018_retention
Revises: 0016_noise
Create Date: 2026-12-07
"""

from collections.abc import Sequence

from alembic import op

from frozen_sql import install

revision: str = "0018_retention"
down_revision: str | None = "0016_noise"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SQL_FILES = {
    "0018_retention/timeline_partitions.sql": "ef6d7d6516b2608d96c1919df35fe2964c9fa6ccf06c65ead922dc232c89d083",
}
ADD = "incident_timeline_add_partitions(timestamptz, integer)"
EMPTY = "incident_timeline_empty_partition(timestamptz)"
DROP = "incident_timeline_drop_partition(timestamptz)"
EXPIRED = "incident_timeline_expired(timestamptz)"
# Months created ahead at upgrade; the worker keeps INCIDENT_TIMELINE_PARTITIONS_AHEAD from then on.
AHEAD = 3

TRIGGER = (
    "CREATE TRIGGER incident_timeline_append_only BEFORE UPDATE OR DELETE ON incident_timeline"
    " FOR EACH ROW EXECUTE FUNCTION incident_timeline_append_only()"
)


def _set_aside() -> None:
    """Rename the table and its named parts out of the way, keeping its sequence."""
    op.execute("DROP TRIGGER incident_timeline_append_only ON incident_timeline")
    op.execute("ALTER SEQUENCE incident_timeline_id_seq OWNED BY NONE")
    op.execute("ALTER TABLE incident_timeline RENAME TO incident_timeline_old")
    op.execute(
        "ALTER TABLE incident_timeline_old RENAME CONSTRAINT incident_timeline_pkey TO incident_timeline_old_pkey"
    )
    op.execute(
        "ALTER TABLE incident_timeline_old"
        " RENAME CONSTRAINT incident_timeline_incident_id_fkey TO incident_timeline_old_incident_id_fkey"
    )
    op.execute("ALTER INDEX ix_incident_timeline_incident_id RENAME TO ix_incident_timeline_old_incident_id")


def _move_in(primary_key: str) -> None:
    """Copy the set-aside rows in, drop the old table, and give back what it had."""
    op.execute(
        "ALTER TABLE incident_timeline"
        f" ADD CONSTRAINT incident_timeline_pkey PRIMARY KEY ({primary_key}),"
        " ADD CONSTRAINT incident_timeline_incident_id_fkey FOREIGN KEY (incident_id)"
        " REFERENCES incidents (id) ON DELETE RESTRICT"
    )
    op.execute("CREATE INDEX ix_incident_timeline_incident_id ON incident_timeline (incident_id, id)")
    op.execute("INSERT INTO incident_timeline SELECT * FROM incident_timeline_old")
    op.execute("DROP TABLE incident_timeline_old")
    op.execute("ALTER SEQUENCE incident_timeline_id_seq OWNED BY incident_timeline.id")
    op.execute(TRIGGER)
    op.execute("GRANT SELECT, INSERT ON incident_timeline TO incident_management")


def upgrade() -> None:
    _set_aside()
    op.execute(
        "CREATE TABLE incident_timeline (LIKE incident_timeline_old INCLUDING DEFAULTS) PARTITION BY RANGE (created_at)"
    )
    op.execute("CREATE TABLE incident_timeline_default PARTITION OF incident_timeline DEFAULT")
    install(SQL_FILES)
    op.execute(f"REVOKE EXECUTE ON FUNCTION {ADD}, {EMPTY}, {DROP}, {EXPIRED} FROM PUBLIC")
    op.execute(f"GRANT EXECUTE ON FUNCTION {ADD}, {EMPTY}, {DROP} TO incident_management")
    # Every month the existing rows fall in, up to AHEAD months after this one.
    op.execute(
        f"""
        SELECT incident_timeline_add_partitions(first, (
                   extract(year FROM age(date_trunc('month', now()), date_trunc('month', first))) * 12
                 + extract(month FROM age(date_trunc('month', now()), date_trunc('month', first))))::integer
                 + {AHEAD})
          FROM (SELECT least(min(created_at), now()) AS first FROM incident_timeline_old) AS oldest
        """
    )
    _move_in("id, created_at")


def downgrade() -> None:
    _set_aside()
    op.execute("CREATE TABLE incident_timeline (LIKE incident_timeline_old INCLUDING DEFAULTS)")
    op.execute(f"DROP FUNCTION {ADD}, {EMPTY}, {DROP}, {EXPIRED}")
    _move_in("id")
