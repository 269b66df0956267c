"""The incident list at scale: how long the UI's first page takes to come back
from incident-management with N incidents stored (default 100,000), next to
/health on the same process (the HTTP and auth overhead alone) measured in the
same run.

    .venv/bin/python bench/incident_list.py [--incidents 100000] [--requests 40]
        [--alerts-per-incident 0] [--keep NAME]

Needs a PostgreSQL server (BENCH_DATABASE_URL, default
postgresql://postgres@127.0.0.1:5432/postgres). It creates a throw-away
database there, migrates it, fills it with a year of incidents (one every
365 days / N, so the summary's 30 days hold a twelfth of them), 20 services and
every status (one INSERT ... SELECT generate_series), starts incident-management
as a process, and asks for what the list page asks for: the newest 50 with the
total, the open ones, one service's, one team's, the unassigned ones, pages 2 and
3, one incident's detail and the status summary, and the metrics page's daily
series over 14 and 90 days (with --alerts-per-incident, each incident gets that
many alerts in the year's monthly partitions, one more INSERT ... SELECT). Prints p50/p95/p99
per query and the ratio to /health's p50. --keep NAME fills database NAME once and
keeps it: a later run with the same NAME reuses it instead of refilling.
"""

import argparse
import json
import os
import secrets
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import psycopg
from alert_to_page import percentile, spread  # bench/ is the script's own directory
from sqlalchemy.engine import make_url

from platform_testing import ServiceProcess, as_service, migrated

# A year's worth (the retention keeps incidents 13 months), one every 365 days / N, so the
# summary's 30 days hold a twelfth of them, as a year of real traffic would. Acknowledged after
# 1-31 minutes and resolved 10 minutes to 4 hours later, spread (the percentiles sort real
# spreads), and assigned round-robin to 30 people (UUID(int=0..29)) but for the unassigned 1 in 100.
FILL = """
INSERT INTO incidents (id, title, description, service, team, severity, status, origin, needs_assignment,
                       escalation_level, escalation_cycle, dependency_failures, version, created_at, updated_at,
                       acknowledged_at, resolved_at, mtta_seconds, mttr_seconds, assigned_to)
SELECT gen_random_uuid(), 'Synthetic incident ' || n, '', 'svc-' || (n %% 20), 'team-' || (n %% 10),
       (ARRAY['critical','high','medium','low','info'])[1 + n %% 5],
       s.status, 'api', false, 0, 0, 0, 1, t.created, t.created,
       CASE WHEN s.status <> 'open' THEN t.created + d.ack * interval '1 second' END,
       CASE WHEN s.status = 'resolved' THEN t.created + d.resolve * interval '1 second' END,
       CASE WHEN s.status <> 'open' THEN d.ack END,
       CASE WHEN s.status = 'resolved' THEN d.resolve END,
       CASE WHEN n %% 100 <> 37 THEN '00000000-0000-0000-0000-' || lpad((n %% 30)::text, 12, '0') END
  FROM generate_series(1, %(n)s) AS n,
       LATERAL (SELECT now() - (n * interval '365 days' / %(n)s) AS created) AS t,
       LATERAL (SELECT 60 + (n::bigint * 7919) %% 1800 AS ack) AS a,
       LATERAL (SELECT a.ack, a.ack + 600 + (n::bigint * 104729) %% 13800 AS resolve) AS d,
       LATERAL (SELECT CASE WHEN n %% 50 = 0 THEN 'open' WHEN n %% 50 = 1 THEN 'acknowledged'
                            ELSE 'resolved' END AS status) AS s
"""

# Every incident's alerts, resolved (so no open-fingerprint index entry), received after it opened,
# in the monthly partitions a year of running makes (migration 0019_alert_partitions: a read by
# incident asks each of them).
ALERT_PARTITIONS = "SELECT alerts_add_partitions(now() - interval '366 days', 13)"
ALERTS_FILL = """
INSERT INTO alerts (id, incident_id, dedup_scope, format, source, service, severity, message, labels,
                    fingerprint, status, action, received_at, resolved_at)
SELECT gen_random_uuid(), i.id, 'service:' || i.service, 'generic', 'prometheus', i.service, i.severity,
       'Synthetic alert', json_build_object('alertname', 'Synthetic', 'instance', 'host-' || k || ':9100'),
       i.id::text || '-' || k, 'resolved', CASE WHEN k = 1 THEN 'created' ELSE 'correlated' END,
       i.created_at + k * interval '1 second', i.created_at + k * interval '1 second'
  FROM incidents AS i, generate_series(1, %(per)s) AS k
"""


# A request, or several asked one after another and timed as one (a page that makes several).
Query = tuple[str, dict] | list[tuple[str, dict]]


def time_queries(
    database_url: str,
    queries: dict[str, Query],
    *,
    requests: int,
    warmup: int,
    service: str = "incident_management",
    env: dict[str, str] | None = None,
    setup: Callable[[httpx.Client], None] | None = None,
) -> tuple[dict[str, list[float]], dict[str, httpx.Response]]:
    """`service` (by default incident-management, its worker off) started on `database_url`
    with `env` added, `setup` given its client once, and then each query, labelled, asked
    `warmup` times and then `requests` times: the milliseconds of each timed query and the
    last answer (of its last request), per label."""
    token = secrets.token_urlsafe(24)
    env = {
        "DATABASE_URL": as_service(database_url, service),
        "ENVIRONMENT": "test",
        "INTERNAL_TOKENS": token,
        "LOG_LEVEL": "WARNING",
        "READINESS_INTERVAL_SECONDS": "600",
        **(env if env is not None else {"INCIDENT_WORKER_ENABLED": "false"}),
    }
    times: dict[str, list[float]] = {}
    answers: dict[str, httpx.Response] = {}
    with (
        ServiceProcess(service, env, log_dir=Path(tempfile.mkdtemp())) as process,
        httpx.Client(base_url=process.url, headers={"Authorization": f"Bearer {token}"}, timeout=30) as client,
    ):
        if setup is not None:
            setup(client)
        for label, query in queries.items():
            asked = query if isinstance(query, list) else [query]
            for _ in range(warmup):
                for path, params in asked:
                    client.get(path, params=params).raise_for_status()
            times[label] = []
            for _ in range(requests):
                begun = time.perf_counter()
                for path, params in asked:
                    answers[label] = client.get(path, params=params).raise_for_status()
                times[label].append(1000 * (time.perf_counter() - begun))
    return times, answers


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--incidents", type=int, default=100_000)
    parser.add_argument("--alerts-per-incident", type=int, default=0)
    parser.add_argument("--requests", type=int, default=40, help="timed requests per query")
    parser.add_argument("--keep", metavar="NAME", help="fill database NAME once and keep it (reused if it exists)")
    parser.add_argument("--json", type=Path, help="also write the figures to this file (bench/scorecard.py)")
    args = parser.parse_args()
    server = make_url(os.environ.get("BENCH_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres"))
    name = args.keep or f"bench_list_{uuid.uuid4().hex[:8]}"
    admin = server.set(drivername="postgresql", database="postgres").render_as_string(hide_password=False)
    url = server.set(drivername="postgresql", database=name).render_as_string(hide_password=False)
    with psycopg.connect(admin, autocommit=True) as conn:
        reuse = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone() is not None
        if not reuse:
            conn.execute(f'CREATE DATABASE "{name}"')
    try:
        migrated(url)  # (a kept database: its schema brought up to this branch's head)
        started = time.perf_counter()
        if not reuse:
            with psycopg.connect(url) as conn:
                conn.execute(FILL, {"n": args.incidents})
                if args.alerts_per_incident:
                    conn.execute(ALERT_PARTITIONS)
                    conn.execute(ALERTS_FILL, {"per": args.alerts_per_incident})
            with psycopg.connect(url, autocommit=True) as conn:
                conn.execute("VACUUM ANALYZE incidents")
                conn.execute("VACUUM ANALYZE alerts")
        filled = time.perf_counter() - started
        with psycopg.connect(url) as conn:
            counted = conn.execute("SELECT (SELECT count(*) FROM incidents), (SELECT count(*) FROM alerts)").fetchone()
            newest = conn.execute("SELECT id FROM incidents ORDER BY created_at DESC LIMIT 1").fetchone()[0]

        def days_ago(days: int) -> str:
            return (datetime.now(UTC) - timedelta(days=days)).isoformat()

        queries = {
            "/health (reference)": ("/health", {}),
            "newest 50 + total": ("/api/v1/incidents", {"limit": 50}),
            "open ones": ("/api/v1/incidents", {"status": ["open", "acknowledged", "in_progress"], "limit": 50}),
            "one service": ("/api/v1/incidents", {"service": "svc-7", "limit": 50}),
            "one team": ("/api/v1/incidents", {"team": "team-3", "limit": 50}),
            "unassigned": ("/api/v1/incidents", {"assignee": "none", "limit": 50}),
            "one assignee": ("/api/v1/incidents", {"assignee": str(uuid.UUID(int=7)), "limit": 50}),
            "page 2": ("/api/v1/incidents", {"limit": 50, "offset": 50}),
            "page 3": ("/api/v1/incidents", {"limit": 50, "offset": 100}),
            "critical, last 24 h": (
                "/api/v1/incidents",
                {"severity": "critical", "limit": 50, "since": days_ago(1)},
            ),
            "incident detail": (f"/api/v1/incidents/{newest}", {}),
            "status counts (summary)": ("/api/v1/incidents/stats/summary", {}),
            # The metrics page's series: its default range, and its longest.
            "daily, 14 days": ("/api/v1/incidents/stats/daily", {"since": days_ago(14)}),
            "daily, 90 days": ("/api/v1/incidents/stats/daily", {"since": days_ago(90)}),
        }
        results, _ = time_queries(url, queries, requests=args.requests, warmup=3)
        reference = percentile(results["/health (reference)"], 50)
        print(
            f"incident list with {counted[0]:,} incidents and {counted[1]:,} alerts"
            f" ({'reused ' + name if reuse else f'filled in {filled:.1f} s'}), {args.requests} requests each:"
        )
        print(f"  {'query':<24}{'p50 ms':>9}{'p95 ms':>9}{'p99 ms':>9}{'x /health':>11}")
        for label, times in results.items():
            p50, p95, p99 = (percentile(times, p) for p in (50, 95, 99))
            print(f"  {label:<24}{p50:9.1f}{p95:9.1f}{p99:9.1f}{p50 / reference:11.1f}")
        print("(shared machine: numbers are noisy; the ratio is what to compare)")
        if args.json:
            args.json.write_text(json.dumps({label: spread(times) for label, times in results.items()}))
        return 0
    finally:
        if not args.keep:
            with psycopg.connect(admin, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


if __name__ == "__main__":
    sys.exit(main())
