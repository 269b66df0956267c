"""Incident search at scale: `GET /api/v1/incidents?q=...` with N incidents stored
(default 100,000), each with one alert carrying a source and labels, next to
/health on the same process (the HTTP and auth overhead alone) in the same run.

    .venv/bin/python bench/search.py [--incidents 100000] [--requests 200]

Needs a PostgreSQL server (BENCH_DATABASE_URL, default
postgresql://postgres@127.0.0.1:5432/postgres). It creates a throw-away
database there, migrates it (the trigram indexes of 0014_quiet), fills it with
one INSERT ... SELECT generate_series per table, starts incident-management as
a process, and searches as the list page does (newest 50 and the total): by a
label value that one incident has, by one a few hundred share, by a word of the
title a tenth of the incidents have, by a service name part, by an alert's
source, and with a filter beside the text. Prints p50/p99 per query and their
ratio to /health's p50.
"""

import argparse
import json
import os
import sys
import time
from pathlib import Path

import psycopg
from alert_to_page import percentile, spread, throwaway_database  # bench/ is the script's own directory

from incident_list import time_queries

TITLES = (
    "Checkout 5xx above 5%",
    "Disk 95% on db",
    "Search latency SLO burn",
    "Pods OOMKilled",
    "Payment gateway timeouts",
    "Queue depth growing",
    "Certificate expires soon",
    "Replica lag above 30 s",
    "Error budget burn",
    "Node not ready",
)
FILL_INCIDENTS = """
INSERT INTO incidents (id, title, description, service, team, severity, status, origin, needs_assignment,
                       escalation_level, escalation_cycle, dependency_failures, version, created_at, updated_at,
                       acknowledged_at, resolved_at)
SELECT md5('incident' || n)::uuid, (%(titles)s::text[])[1 + n %% 10] || ' #' || n, '', 'svc-' || (n %% 20), NULL,
       (ARRAY['critical','high','medium','low','info'])[1 + n %% 5],
       CASE WHEN n %% 50 = 0 THEN 'open' ELSE 'resolved' END, 'api', false, 0, 0, 0, 1, t.created, t.created,
       CASE WHEN n %% 50 <> 0 THEN t.created + interval '4 minutes' END,
       CASE WHEN n %% 50 <> 0 THEN t.created + interval '40 minutes' END
  FROM generate_series(1, %(n)s) AS n,
       LATERAL (SELECT now() - (n * interval '30 days' / %(n)s) AS created) AS t
"""
FILL_ALERTS = """
INSERT INTO alerts (id, incident_id, dedup_scope, format, source, service, severity, message, labels, fingerprint,
                    status, action, received_at, resolved_at)
SELECT gen_random_uuid(), md5('incident' || n)::uuid, 'service:svc-' || (n %% 20), 'alertmanager',
       'prometheus-' || (n %% 10), 'svc-' || (n %% 20), 'high', 'synthetic',
       json_build_object('alertname', 'Synthetic' || (n %% 40), 'instance', 'host-' || n || ':9100',
                         'cluster', 'kube-' || (n %% 300)),
       md5('fp' || n), 'resolved', 'created', t.received, t.received + interval '40 minutes'
  FROM generate_series(1, %(n)s) AS n,
       LATERAL (SELECT now() - (n * interval '30 days' / %(n)s) AS received) AS t
"""


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--incidents", type=int, default=100_000)
    parser.add_argument("--requests", type=int, default=200, help="timed requests per query")
    parser.add_argument("--json", type=Path, help="also write the figures to this file (bench/scorecard.py)")
    args = parser.parse_args()
    server_url = os.environ.get("BENCH_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
    with throwaway_database(server_url) as url:
        started = time.perf_counter()
        with psycopg.connect(url) as conn:
            conn.execute(FILL_INCIDENTS, {"n": args.incidents, "titles": list(TITLES)})
            conn.execute(FILL_ALERTS, {"n": args.incidents})
            conn.execute("ANALYZE incidents")
            conn.execute("ANALYZE alerts")
        filled = time.perf_counter() - started
        one = args.incidents // 2 + 7
        queries = {
            "/health (reference)": ("/health", {}),
            "label value, 1 match": ("/api/v1/incidents", {"q": f"host-{one}:9100", "limit": 50}),
            "label value, ~330": ("/api/v1/incidents", {"q": "kube-123", "limit": 50}),
            "title word, 10 %": ("/api/v1/incidents", {"q": "oomkilled", "limit": 50}),
            "title number, 1": ("/api/v1/incidents", {"q": f"#{one}", "limit": 50}),
            "service part, 5 %": ("/api/v1/incidents", {"q": "svc-17", "limit": 50}),
            "word + open only": ("/api/v1/incidents", {"q": "checkout", "status": "open", "limit": 50}),
            "page 3 of a word": ("/api/v1/incidents", {"q": "replica lag", "limit": 50, "offset": 100}),
            "no match": ("/api/v1/incidents", {"q": "no-such-text", "limit": 50}),
        }
        results, answers = time_queries(url, queries, requests=args.requests, warmup=5)
        for label, answer in answers.items():
            if label != "/health (reference)":
                counted = answer.json()
                more = "+" if counted.get("total_capped") else ""
                print(f"  ({label}: {counted['total']}{more} match)", file=sys.stderr)
        reference = percentile(results["/health (reference)"], 50)
        print(
            f"incident search with {args.incidents:,} incidents and as many alerts (filled in {filled:.1f} s),"
            f" {args.requests} requests each:"
        )
        print(f"  {'query':<24}{'p50 ms':>9}{'p99 ms':>9}{'p50 x /health':>15}{'p99 x /health':>15}")
        for label, times in results.items():
            p50, p99 = percentile(times, 50), percentile(times, 99)
            print(f"  {label:<24}{p50:9.1f}{p99:9.1f}{p50 / reference:15.1f}{p99 / reference:15.1f}")
        print("(shared machine: numbers are noisy; the ratio is what to compare)")
        if args.json:
            args.json.write_text(json.dumps({label: spread(times) for label, times in results.items()}))
        return 0


if __name__ == "__main__":
    sys.exit(main())
