"""The on-call page's "Now" view at scale: every service's escalation chain with N
services (default 200), each on its own policy and rotation, asked the way the page
asks now (one `GET /api/v1/oncall/services`) and the way it asked before (the
services list, then `GET /api/v1/oncall/current?service=` once per service), next
to /health on the same process in the same run.

    .venv/bin/python bench/oncall_page.py [--services 200] [--requests 20]

Needs a PostgreSQL server (BENCH_DATABASE_URL, default
postgresql://postgres@127.0.0.1:5432/postgres). It creates a throw-away database
there, migrates it, starts oncall-service as a process and fills it through its API:
20 responders; per service a schedule (a weekly rotation of three of them, every
fourth with an override running now), a two-level policy (the schedule, then a
person) and the service. The old way's requests are asked one after another, as
one timed query: the browser sent them a few at a time, so its wait was shorter
than their sum, but the service's work (and the database's) was this sum.
Prints p50/p99 per query and their ratio to /health's p50.
"""

import argparse
import json
import os
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
from alert_to_page import percentile, spread, throwaway_database  # bench/ is the script's own directory

from incident_list import Query, time_queries

PEOPLE = 20


def _created(response: httpx.Response) -> dict:
    assert response.status_code == 201, response.text
    return response.json()


def fill(client: httpx.Client, services: int) -> None:
    """`services` services, each paging its own policy: its own rotation, then a person."""
    people = [
        _created(client.post("/api/v1/users", json={"name": f"Person {i}", "email": f"p{i}@example.com"}))["id"]
        for i in range(PEOPLE)
    ]
    now = datetime.now(UTC)
    for i in range(services):
        members = [people[(i + k) % PEOPLE] for k in range(3)]
        layer = {"rotation_type": "weekly", "start_date": "2026-01-05", "members": members}
        schedule = _created(
            client.post("/api/v1/schedules", json={"name": f"rota-{i:03}", "timezone": "UTC", "layers": [layer]})
        )
        if i % 4 == 0:
            until = (now + timedelta(days=1)).isoformat()
            cover = {"user_id": people[(i + 5) % PEOPLE], "start": now.isoformat(), "end": until}
            _created(client.post(f"/api/v1/schedules/{schedule['id']}/overrides", json=cover))
        levels = [
            {"delay_minutes": 5, "targets": [{"type": "schedule", "id": schedule["id"]}]},
            {"delay_minutes": 10, "targets": [{"type": "user", "id": people[(i + 7) % PEOPLE]}]},
        ]
        policy = _created(client.post("/api/v1/escalation-policies", json={"name": f"policy-{i:03}", "levels": levels}))
        _created(client.post("/api/v1/services", json={"name": f"svc-{i:03}", "escalation_policy_id": policy["id"]}))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--services", type=int, default=200)
    parser.add_argument("--requests", type=int, default=20, help="timed queries per label")
    parser.add_argument("--json", type=Path, help="also write the figures to this file (bench/scorecard.py)")
    args = parser.parse_args()
    server_url = os.environ.get("BENCH_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
    page = {"limit": 200}  # the UI's page size (web-ui/src/api/pages.ts)
    offsets = range(0, args.services, page["limit"])  # one page up to 200 services
    one_by_one: Query = [("/api/v1/services", page)] + [
        ("/api/v1/oncall/current", {"service": f"svc-{i:03}"}) for i in range(args.services)
    ]
    queries: dict[str, Query] = {
        "/health (reference)": ("/health", {}),
        "one /current": ("/api/v1/oncall/current", {"service": "svc-000"}),
        "new: /oncall/services": [("/api/v1/oncall/services", {**page, "offset": o}) for o in offsets],
        f"old: list + {args.services} /current": one_by_one,
    }
    with throwaway_database(server_url) as url:
        results, answers = time_queries(
            url,
            queries,
            requests=args.requests,
            warmup=2,
            service="oncall_service",
            env={"ONCALL_NOTICE_ENABLED": "false"},
            setup=lambda client: fill(client, args.services),
        )
    assert answers["new: /oncall/services"].json()["total"] == args.services
    reference = percentile(results["/health (reference)"], 50)
    print(f"on-call page with {args.services} services, {args.requests} timed queries each:")
    print(f"  {'query':<28}{'p50 ms':>9}{'p99 ms':>9}{'p50 x /health':>15}{'p99 x /health':>15}")
    for label, times in results.items():
        p50, p99 = percentile(times, 50), percentile(times, 99)
        print(f"  {label:<28}{p50:9.1f}{p99:9.1f}{p50 / reference:15.1f}{p99 / reference:15.1f}")
    new, old = (percentile(results[label], 50) for label in list(results)[2:4])
    print(f"  old / new (p50): {old / new:.1f}")
    print(f"  /oncall/services answer: {len(answers['new: /oncall/services'].content) / 1000:.0f} KB")
    print("(shared machine: numbers are noisy; the ratio is what to compare)")
    if args.json:
        args.json.write_text(json.dumps({label: spread(times) for label, times in results.items()}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
