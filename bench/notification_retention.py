"""The notifications' retention at scale: the time notification-service's retention
(workers/retention.py, migration 0022_notification_retention) takes to delete N expired
notify requests (default 200,000) with their notifications and attempts, a batch per
transaction as its role, next to a reference in the same run: one DELETE of as many
requests (what a retention without batches would do, holding every row lock at once).

    .venv/bin/python bench/notification_retention.py [--rows 200000] [--batch 1000]

Needs a PostgreSQL server (BENCH_DATABASE_URL, default
postgresql://postgres@127.0.0.1:5432/postgres). It creates a throw-away database there,
migrates it, and fills 2N requests created 100 days ago (one delivered notification
with one attempt each): N for the retention, N for the reference. Prints each time,
the ratio, and the longest batch (how long delivery could wait on one of its locks).
"""

import argparse
import asyncio
import os
import time
from datetime import UTC, datetime

import psycopg
from alert_to_page import throwaway_database  # bench/ is the script's own directory

from notification_service.config import Settings
from notification_service.workers.retention import NotificationRetention
from platform_common.clock import ManualClock
from platform_common.db import Database
from platform_testing import as_service

NOW = datetime(2026, 12, 8, tzinfo=UTC)
FILL = """
WITH r AS (
    INSERT INTO notification_requests (id, idempotency_key, event, created_at)
    SELECT gen_random_uuid(), %(tag)s || n, 'triggered', %(at)s FROM generate_series(1, %(rows)s) n
    RETURNING id, created_at
), n AS (
    INSERT INTO notifications (id, request_id, event, recipient, channel, target, severity, payload, status,
                               attempts, created_at, updated_at, delivered_at)
    SELECT gen_random_uuid(), r.id, 'triggered', 'someone', 'log', 'bench', 'high', '{}', 'delivered', 1,
           r.created_at, r.created_at, r.created_at FROM r
    RETURNING id, created_at
)
INSERT INTO notification_attempts (notification_id, attempt, result, duration_ms, started_at)
SELECT n.id, 1, 'success', 1.0, n.created_at FROM n
"""


async def _retire(url: str, batch: int) -> tuple[float, float]:
    """The worker's cycles until none comes full: total seconds and the longest batch's."""
    db = Database(Settings(environment="test", database_url=as_service(url, "notification_service")))
    retention = NotificationRetention(db, ManualClock(NOW), days=90, batch=batch, interval=3600, grace=5)
    longest = 0.0
    started = time.perf_counter()
    try:
        while True:
            before = time.perf_counter()
            more = await retention.cycle()
            longest = max(longest, time.perf_counter() - before)
            if not more:
                break
    finally:
        await db.dispose()
    return time.perf_counter() - started, longest


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--batch", type=int, default=1000)
    args = parser.parse_args()
    server = os.environ.get("BENCH_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
    with throwaway_database(server) as url:
        aged = datetime(2026, 8, 30, tzinfo=UTC)  # 100 days before NOW
        with psycopg.connect(url, autocommit=True) as owner:
            for tag in ("reference-", "retention-"):
                owner.execute(FILL, {"tag": tag, "at": aged, "rows": args.rows})
            owner.execute("VACUUM ANALYZE")
            started = time.perf_counter()
            owner.execute("DELETE FROM notification_requests WHERE idempotency_key LIKE 'reference-%%'")
            reference = time.perf_counter() - started
            owner.execute("VACUUM ANALYZE")
        total, longest = asyncio.run(_retire(url, args.batch))
        with psycopg.connect(url) as owner:
            left = owner.execute("SELECT count(*) FROM notifications").fetchone()[0]
    print(f"{args.rows:,} expired requests (+1 notification, +1 attempt each), batches of {args.batch:,}:")
    print(f"  retention (a batch per transaction): {total:.2f} s, longest batch {longest * 1000:.0f} ms")
    print(f"  reference (one DELETE):              {reference:.2f} s")
    print(f"  ratio: {total / reference:.2f}; notifications left: {left}")


if __name__ == "__main__":
    main()
