"""The timeline's retention at scale (migration 0018_retention): the time to retire a month
holding N entries (default 1,000,000) as incident-management's role does, next to a
reference in the same run: deleting the same N rows from a plain table, what a
retention without partitions would do.

    .venv/bin/python bench/timeline_retention.py [--rows 1000000]

Needs a PostgreSQL server (BENCH_DATABASE_URL, default
postgresql://postgres@127.0.0.1:5432/postgres). It creates a throw-away database
there, migrates it, fills May 2024's partition with one INSERT ... SELECT
generate_series (one incident, resolved that month), copies the rows into a plain
table with the same index, then times incident_timeline_empty_partition() and
incident_timeline_drop_partition() (as the worker calls them) and the DELETE.
Prints each and the ratio.
"""

import argparse
import os
import time
import uuid

import psycopg
from alert_to_page import throwaway_database  # bench/ is the script's own directory

from platform_testing import as_service

MONTH = "2024-05-01T00:00:00Z"
CUTOFF = "2025-01-01T00:00:00Z"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    args = parser.parse_args()
    server = os.environ.get("BENCH_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
    with throwaway_database(server) as url:
        with psycopg.connect(url, autocommit=True) as owner:
            incident_id = uuid.uuid4()
            owner.execute("SELECT incident_timeline_add_partitions(%s, 0)", [MONTH])
            owner.execute(
                "INSERT INTO incidents (id, title, service, severity, status, created_at, resolved_at)"
                " VALUES (%s, 'old', 'api', 'high', 'resolved', %s, %s)",
                [incident_id, MONTH, MONTH],
            )
            started = time.perf_counter()
            owner.execute(
                "INSERT INTO incident_timeline (incident_id, event_type, actor, message, created_at)"
                " SELECT %s, 'note_added', 'bench', 'entry ' || n, %s::timestamptz + n * interval '1 millisecond'"
                " FROM generate_series(1, %s) n",
                [incident_id, MONTH, args.rows],
            )
            fill = time.perf_counter() - started
            owner.execute("CREATE TABLE plain_timeline AS SELECT * FROM incident_timeline_p202405")
            owner.execute("CREATE INDEX ON plain_timeline (incident_id, id)")
            owner.execute("CREATE INDEX ON plain_timeline (created_at)")
            owner.execute("VACUUM ANALYZE plain_timeline, incident_timeline")
        with psycopg.connect(as_service(url, "incident_management"), autocommit=True) as role:
            started = time.perf_counter()
            (emptied,) = role.execute("SELECT incident_timeline_empty_partition(%s)", [CUTOFF]).fetchone()
            empty = time.perf_counter() - started
            started = time.perf_counter()
            (dropped,) = role.execute("SELECT incident_timeline_drop_partition(%s)", [CUTOFF]).fetchone()
            drop = time.perf_counter() - started
        assert emptied == dropped == "incident_timeline_p202405", (emptied, dropped)
        with psycopg.connect(url, autocommit=True) as owner:
            started = time.perf_counter()
            deleted = owner.execute("DELETE FROM plain_timeline WHERE created_at < %s", [CUTOFF]).rowcount
            delete = time.perf_counter() - started
        assert deleted == args.rows, deleted
    print(f"timeline retention, {args.rows:,} entries in one month (filled in {fill:.1f} s):")
    print(f"  empty the month (TRUNCATE, the month's lock)  {empty * 1000:9.1f} ms")
    print(f"  drop it (the timeline's lock)                 {drop * 1000:9.1f} ms")
    print(f"  DELETE them from a plain table (reference)    {delete * 1000:9.1f} ms")
    print(f"  (empty + drop) / delete                       {(empty + drop) / delete:9.4f}")


if __name__ == "__main__":
    main()
