"""The retention at scale: the time to retire a month of the timeline (migration
0018_retention) or, with --alerts, of alerts (0020_alert_retention) holding N rows
(default 1,000,000) as the owning service's role does, next to a reference in the same
run: deleting the same N rows from a plain table, what a retention without partitions
would do.

    .venv/bin/python bench/timeline_retention.py [--rows 1000000] [--alerts]

Needs a PostgreSQL server (BENCH_DATABASE_URL, default
postgresql://postgres@127.0.0.1:5432/postgres). It creates a throw-away database
there, migrates it, fills May 2024's partition with one INSERT ... SELECT
generate_series (the timeline: one incident, resolved that month; alerts: one
incident per 10 alerts, each resolved that month, so the check that no alert is
still needed looks up N / 10 incidents), copies the rows into a plain table with the
same indexes, then times the check that the month may go (as its owner), the month's
empty and drop functions (as the worker calls them) and the DELETE. Prints each and
the ratio.
"""

import argparse
import os
import time
from dataclasses import dataclass

import psycopg
from alert_to_page import throwaway_database  # bench/ is the script's own directory

from platform_testing import as_service

MONTH = "2024-05-01T00:00:00Z"
CUTOFF = "2025-01-01T00:00:00Z"
# Incident n of the month, made and referred to without a lookup table.
INCIDENT = "md5('incident ' || {n})::uuid"


@dataclass(frozen=True)
class Table:
    """What differs between the two retentions: the table, its functions and role, how it is filled."""

    name: str
    role: str
    functions: str  # the prefix of <prefix>_add_partitions/_empty_partition/_drop_partition
    time_column: str
    fill: str  # INSERT ... SELECT over generate_series(1, %(rows)s) n
    indexes: tuple[str, ...]  # of the plain reference table
    incidents_per_row: int  # one incident for this many rows


TIMELINE = Table(
    name="incident_timeline",
    role="incident_management",
    functions="incident_timeline",
    time_column="created_at",
    fill=(
        "INSERT INTO incident_timeline (incident_id, event_type, actor, message, created_at)"
        f" SELECT {INCIDENT.format(n=0)}, 'note_added', 'bench', 'entry ' || n,"
        " %(month)s::timestamptz + n * interval '1 millisecond' FROM generate_series(1, %(rows)s) n"
    ),
    indexes=("(incident_id, id)", "(created_at)"),
    incidents_per_row=0,
)
ALERTS = Table(
    name="alerts",
    role="alert_ingestion",
    functions="alerts",
    time_column="received_at",
    fill=(
        "INSERT INTO alerts (id, incident_id, dedup_scope, format, source, service, severity, message,"
        " fingerprint, status, action, resolved_at, received_at)"
        f" SELECT gen_random_uuid(), {INCIDENT.format(n='n / 10')}, 'service:api', 'generic', 'bench', 'api',"
        " 'high', 'alert ' || n, 'fp-' || n / 10, 'resolved', CASE WHEN n %% 10 = 0 THEN 'created' ELSE 'correlated'"
        " END, %(month)s::timestamptz + interval '1 day',"
        " %(month)s::timestamptz + n * interval '1 millisecond' FROM generate_series(1, %(rows)s) n"
    ),
    indexes=(
        "(incident_id, status)",
        "(received_at)",
        "(service, received_at)",
        "(dedup_scope, fingerprint, received_at) WHERE status <> 'resolved'",
        "(service, severity, received_at) WHERE action = 'created'",
    ),
    incidents_per_row=10,
)


def _incidents(owner: psycopg.Connection, table: Table, rows: int) -> int:
    """The month's incidents, every one resolved in it; returns how many."""
    count = rows // table.incidents_per_row + 1 if table.incidents_per_row else 1
    owner.execute(
        "INSERT INTO incidents (id, title, service, severity, status, created_at, resolved_at)"
        f" SELECT {INCIDENT.format(n='n')}, 'old', 'api', 'high', 'resolved', %(month)s, %(month)s::timestamptz"
        " + interval '1 day' FROM generate_series(0, %(count)s - 1) n",
        {"month": MONTH, "count": count},
    )
    return count


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--alerts", action="store_true", help="retire a month of alerts, not of the timeline")
    args = parser.parse_args()
    table = ALERTS if args.alerts else TIMELINE
    partition = f"{table.name}_p202405"
    server = os.environ.get("BENCH_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
    with throwaway_database(server) as url:
        with psycopg.connect(url, autocommit=True) as owner:
            owner.execute(f"SELECT {table.functions}_add_partitions(%s, 0)", [MONTH])
            incidents = _incidents(owner, table, args.rows)
            started = time.perf_counter()
            owner.execute(table.fill, {"month": MONTH, "rows": args.rows})
            fill = time.perf_counter() - started
            owner.execute(f"CREATE TABLE plain_rows AS SELECT * FROM {partition}")
            for index in table.indexes:
                owner.execute(f"CREATE INDEX ON plain_rows {index}")
            owner.execute(f"VACUUM ANALYZE plain_rows, {table.name}, incidents")
            # The rule alone, as each cycle runs it for every month past the cutoff (as the owner: no role may).
            started = time.perf_counter()
            expired = [name for (name,) in owner.execute(f"SELECT {table.functions}_expired(%s)", [CUTOFF])]
            check = time.perf_counter() - started
        assert expired == [partition], expired
        with psycopg.connect(as_service(url, table.role), autocommit=True) as role:
            started = time.perf_counter()
            (emptied,) = role.execute(f"SELECT {table.functions}_empty_partition(%s)", [CUTOFF]).fetchone()
            empty = time.perf_counter() - started
            started = time.perf_counter()
            (dropped,) = role.execute(f"SELECT {table.functions}_drop_partition(%s)", [CUTOFF]).fetchone()
            drop = time.perf_counter() - started
        assert emptied == dropped == partition, (emptied, dropped)
        with psycopg.connect(url, autocommit=True) as owner:
            started = time.perf_counter()
            deleted = owner.execute(f"DELETE FROM plain_rows WHERE {table.time_column} < %s", [CUTOFF]).rowcount
            delete = time.perf_counter() - started
        assert deleted == args.rows, deleted
    print(
        f"{table.name} retention, {args.rows:,} rows of {incidents:,} incidents in one month (filled in {fill:.1f} s):"
    )
    print(f"  the check alone (may the month go?)                  {check * 1000:9.1f} ms")
    print(f"  empty the month (check, TRUNCATE: the month's lock)  {empty * 1000:9.1f} ms")
    print(f"  drop it (the parent's lock)                          {drop * 1000:9.1f} ms")
    print(f"  DELETE them from a plain table (reference)           {delete * 1000:9.1f} ms")
    print(f"  (empty + drop) / delete                              {(empty + drop) / delete:9.4f}")


if __name__ == "__main__":
    main()
