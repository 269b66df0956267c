"""Ingestion throughput: alerts/s and p50/p99 at N concurrent senders, next to
pgbench running the same writes straight against PostgreSQL.

    .venv/bin/python bench/ingest.py [--seconds 10] [--connections 64] [--workers 2]

Needs `wrk` and `pgbench` (apt-get install -y wrk postgresql-client) and a
PostgreSQL server (BENCH_DATABASE_URL, default postgresql://postgres@127.0.0.1:5432/postgres).
It creates a throw-away database there, migrates it, starts alert-ingestion
itself on a free loopback port, drives it from a separate process (wrk), and
drops the database at the end. Senders spread over 50 services and 1,000
dedup keys, so most alerts are repeats and correlations (the common case) and
a few open incidents. incident-management is not started: the few new
incidents go through the database fallback.
"""

import argparse
import json
import os
import re
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import httpx
import psycopg
from sqlalchemy.engine import make_url

from platform_testing import as_service, free_port, migrated

# One integration key per service (a key speaks for its own service only);
# the bench fills in KEYS with the keys it issued.
WRK_SCRIPT = r"""
local keys = {KEYS}
request = function()
  local n = math.random(0, 999)
  local body = string.format(
    '{"severity":"high","message":"probe failed on node %d","dedup_key":"k-%d","source":"wrk"}', n, n)
  local headers = {["Content-Type"] = "application/json", ["Authorization"] = "Bearer " .. keys[n % 50 + 1]}
  return wrk.format("POST", "/api/v1/alerts", headers, body)
end
"""
SERVICES = 50

# The same writes with no Python at all: pgbench calls the rule the service
# calls (ingest_alerts: lock, match, store), one alert per call, with the same mix.
PGBENCH_SCRIPT = """
\\set n random(0, 999)
SELECT * FROM ingest_alerts(ARRAY[gen_random_uuid()], ARRAY[NULL]::uuid[], ARRAY['service:svc-' || (:n % 50)],
  ARRAY['generic'], ARRAY['pgbench'], ARRAY['svc-' || (:n % 50)], ARRAY['high'],
  ARRAY['probe failed on node ' || :n], ARRAY['{}']::json[], ARRAY['k-' || :n], ARRAY['k-' || :n],
  ARRAY[NULL]::timestamptz[], ARRAY['{"source": "pgbench"}']::json[], now(), 5.0);
"""


def need(binary: str) -> str:
    path = shutil.which(binary)
    if not path:
        sys.exit(f"{binary} is not installed (apt-get install -y {binary})")
    return path


def cpu_seconds(pid: int) -> float:
    """CPU time (user + system) of a process and its children (uvicorn workers), from /proc."""
    total = 0.0
    tick = os.sysconf("SC_CLK_TCK")
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(stat.parent.name) == pid or int(fields[1]) == pid:
            total += (int(fields[11]) + int(fields[12])) / tick
    return total


def postgres_cpu_seconds() -> float:
    """CPU time of every PostgreSQL server process on this machine (other users' too: a rough figure)."""
    total = 0.0
    tick = os.sysconf("SC_CLK_TCK")
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            head, tail = stat.read_text().rsplit(")", 1)
        except OSError:
            continue
        if head.endswith("(postgres"):
            fields = tail.split()
            total += (int(fields[11]) + int(fields[12])) / tick
    return total


def machine_times() -> tuple[float, float]:
    """(busy, total) CPU seconds of the whole machine since boot, from /proc/stat."""
    fields = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = fields[3] + fields[4]
    return (sum(fields) - idle) / os.sysconf("SC_CLK_TCK"), sum(fields) / os.sysconf("SC_CLK_TCK")


def parse_wrk(output: str) -> dict[str, float]:
    def latency_ms(label: str) -> float:
        match = re.search(rf"^\s*{label}%\s+([\d.]+)(us|ms|s)\s*$", output, re.MULTILINE)
        if not match:
            return float("nan")
        value, unit = float(match.group(1)), match.group(2)
        return value / 1000 if unit == "us" else value * 1000 if unit == "s" else value

    rps = re.search(r"Requests/sec:\s+([\d.]+)", output)
    total = re.search(r"(\d+) requests in", output)
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    errors = re.search(r"Socket errors: (.*)", output)
    return {
        "rps": float(rps.group(1)) if rps else float("nan"),
        "requests": int(total.group(1)) if total else 0,
        "non_2xx": int(non_2xx.group(1)) if non_2xx else 0,
        "p50": latency_ms("50"),
        "p99": latency_ms("99"),
        "socket_errors": errors.group(1) if errors else "none",
    }


def parse_pgbench(output: str) -> dict[str, float]:
    tps = re.search(r"tps = ([\d.]+)", output)
    latency = re.search(r"latency average = ([\d.]+) ms", output)
    return {"tps": float(tps.group(1)) if tps else float("nan"), "avg_ms": float(latency.group(1)) if latency else 0}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--workers", type=int, default=2, help="uvicorn worker processes of alert-ingestion")
    parser.add_argument("--threads", type=int, default=2, help="wrk threads")
    parser.add_argument("--pgbench-clients", type=int, default=16)
    parser.add_argument("--json", type=Path, help="also write the figures to this file (bench/scorecard.py)")
    args = parser.parse_args()
    wrk, pgbench = need("wrk"), need("pgbench")

    server = make_url(os.environ.get("BENCH_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres"))
    name = f"bench_ingest_{uuid.uuid4().hex[:8]}"
    admin = server.set(drivername="postgresql", database="postgres").render_as_string(hide_password=False)
    url = server.set(drivername="postgresql", database=name).render_as_string(hide_password=False)
    folder = Path(tempfile.mkdtemp(prefix="bench-ingest-"))
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    service = None
    try:
        migrated(url)
        port = free_port()
        internal = secrets.token_urlsafe(24)
        env = {
            **os.environ,
            "ENVIRONMENT": "test",
            "DATABASE_URL": as_service(url, "alert_ingestion"),
            "PORT": str(port),
            "HOST": "127.0.0.1",
            "INGEST_WORKERS": str(args.workers),
            "INCIDENT_SERVICE_URL": f"http://127.0.0.1:{free_port()}",  # nothing listens: database fallback
            "INCIDENT_CREATE_RETRIES": "0",
            "INTERNAL_TOKENS": internal,  # the bench issues its keys as the platform
            # One sender address sends everything here: only the per-key limit applies.
            "RATE_LIMIT_PER_CLIENT_PER_MINUTE": "0",
            "RATE_LIMIT_PER_MINUTE": "0",
            "LOG_LEVEL": "WARNING",
            "DB_POOL_SIZE": str(max(10, args.connections // args.workers)),
        }
        log = (folder / "service.log").open("wb")
        service = subprocess.Popen([sys.executable, "-m", "alert_ingestion"], env=env, stdout=log, stderr=log)
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(f"{base}/health", timeout=0.5).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if service.poll() is not None or time.monotonic() > deadline:
                sys.exit(f"alert-ingestion did not start:\n{(folder / 'service.log').read_text()}")
            time.sleep(0.2)

        # Warm-up: opens the incidents (one per service) and the worker's connections.
        script = folder / "alerts.lua"
        keys = [
            httpx.post(
                f"{base}/api/v1/integrations",
                json={"name": f"bench svc-{n}", "service": f"svc-{n}", "type": "generic"},
                headers={"Authorization": f"Bearer {internal}"},
                timeout=10,
            )
            .raise_for_status()
            .json()["key"]
            for n in range(SERVICES)
        ]
        script.write_text(WRK_SCRIPT.replace("{KEYS}", "{" + ", ".join(f'"{k}"' for k in keys) + "}"))
        subprocess.run([wrk, "-t1", "-c8", "-d2s", "-s", str(script), base], check=True, capture_output=True)

        with psycopg.connect(url) as conn:
            # Triggers, not rows: a repeat of a dedup key counts on its alert's row.
            before = conn.execute("SELECT coalesce(sum(trigger_count), 0) FROM alerts").fetchone()[0]
        cpu_before, pg_before, machine_before = cpu_seconds(service.pid), postgres_cpu_seconds(), machine_times()
        run = subprocess.run(
            [
                wrk,
                f"-t{args.threads}",
                f"-c{args.connections}",
                f"-d{args.seconds}s",
                "--latency",
                "-s",
                str(script),
                "--timeout",
                "5s",
                base,
            ],
            check=True,
            capture_output=True,
            text=True,
        )
        result = parse_wrk(run.stdout)
        cpu_used = cpu_seconds(service.pid) - cpu_before
        pg_used = postgres_cpu_seconds() - pg_before
        machine_after = machine_times()
        busy = (machine_after[0] - machine_before[0]) / max(1e-9, machine_after[1] - machine_before[1])
        if result["non_2xx"] or not result["requests"]:
            sys.exit(f"the service refused alerts:\n{run.stdout}\n{(folder / 'service.log').read_text()[-3000:]}")
        with psycopg.connect(url) as conn:
            stored = conn.execute("SELECT coalesce(sum(trigger_count), 0) FROM alerts").fetchone()[0] - before
            incidents = conn.execute("SELECT count(DISTINCT incident_id), sum(trigger_count) FROM alerts").fetchone()
        service.terminate()
        service.wait(30)
        service = None

        (folder / "writes.sql").write_text(PGBENCH_SCRIPT)
        bench = subprocess.run(
            [
                pgbench,
                "-n",
                "-M",
                "simple",
                "-c",
                str(args.pgbench_clients),
                "-j",
                "2",
                "-T",
                str(args.seconds),
                "-f",
                str(folder / "writes.sql"),
                url,
            ],
            capture_output=True,
            text=True,
        )
        if bench.returncode != 0:
            sys.exit(f"pgbench failed:\n{bench.stderr}")
        pg = parse_pgbench(bench.stdout)

        print(f"alert-ingestion ({args.workers} workers), wrk {args.connections} connections, {args.seconds}s:")
        print(f"  alerts/s      {result['rps']:.0f}")
        print(f"  p50 / p99     {result['p50']:.1f} ms / {result['p99']:.1f} ms")
        print(
            f"  requests      {result['requests']} (non-2xx: {result['non_2xx']}, socket errors: "
            f"{result['socket_errors']})"
        )
        print(f"  service CPU   {1000 * cpu_used / max(1, result['requests']):.2f} ms per alert")
        print(f"  database CPU  {1000 * pg_used / max(1, result['requests']):.2f} ms per alert (all of PostgreSQL)")
        print(f"  machine busy  {100 * busy:.0f}% of {os.cpu_count()} cores during the run (wrk and others included)")
        print(f"  stored        {stored} alerts; {incidents[0]} incidents counting {incidents[1]} alerts")
        print(f"pgbench, same writes, {args.pgbench_clients} clients, {args.seconds}s:")
        print(f"  tps           {pg['tps']:.0f}  (latency avg {pg['avg_ms']:.1f} ms)")
        print(f"  ingestion at  {100 * result['rps'] / pg['tps']:.0f}% of the database's own rate")
        print("(shared 2-core machine: numbers are noisy)")
        if args.json:
            figures = {
                "alerts_per_s": result["rps"],
                "p50_ms": result["p50"],
                "p99_ms": result["p99"],
                "service_cpu_ms_per_alert": 1000 * cpu_used / max(1, result["requests"]),
                "pgbench_tps": pg["tps"],
                "pgbench_avg_ms": pg["avg_ms"],
            }
            args.json.write_text(json.dumps(figures))
        return 0
    finally:
        if service is not None:
            service.kill()
            service.wait()
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
