"""Alert to page: how long from an alert arriving at alert-ingestion until the
on-call engineer's webhook rings, through all four services as real processes.

    .venv/bin/python bench/alert_to_page.py [--database-url URL] [--alerts 100]

It creates a throw-away database on the PostgreSQL server of --database-url
(default $TEST_DATABASE_URL; only the server is used), migrates it, starts
oncall-service, notification-service, incident-management and alert-ingestion
on free loopback ports, and a webhook receiver of its own. Through the APIs it
makes a user whose contact method is that webhook, an escalation policy paging
her, a service using it and a generic integration key for the service. Then it
sends the alerts one at a time (POST /api/v1/alerts with the key), each with
its own dedup key, and alert-ingestion runs with CORRELATION_WINDOW_MINUTES=0,
so every alert opens a new incident (checked: each 202 must say `created`).
The next alert goes once the previous page has arrived (plus --gap).

For each alert it records the time to the 202 and the time until the page for
that alert's incident reached the webhook (pages are matched by incident id,
so a page that lands before the 202 counts too). It prints p50/p95/p99/max of
both and how many pages arrived, and exits non-zero unless every alert was
paged. Everything it started is stopped and the database dropped on exit.
Settings of the services (e.g. NOTIFICATION_POLL_SECONDS) pass through from
the environment, except the ones it sets below.

With --rate N it sends at a fixed rate instead, N alerts a second for
--seconds (each a new incident, 32 senders side by side), without waiting for
pages: how paging keeps up with a storm of new incidents. It then waits up to
--timeout after the last alert for the pages and prints the same figures, and
how many pages arrived within a second, 5 s and a minute of their alert.

    .venv/bin/python bench/alert_to_page.py --rate 50 --seconds 60
"""

import argparse
import contextlib
import json
import math
import os
import secrets
import shutil
import signal
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import psycopg
from sqlalchemy.engine import make_url

from platform_testing import ServiceProcess, as_service, migrated

SERVICE = "alert-to-page"
# The bench sets the platform up as the platform itself (the internal
# credential between services), so it needs no account of its own.
INTERNAL_TOKEN = secrets.token_urlsafe(24)
PLATFORM = {"Authorization": f"Bearer {INTERNAL_TOKEN}"}


class Webhook:
    """An on-call engineer's phone: a real HTTP server on loopback that counts the
    pages about each incident, in the order they come. `fail("500")` or
    `fail("hang")` makes it answer 500 or not at all until `heal()` (such a page
    is not counted: the sender has to try again); bench/faults.py uses that."""

    def __init__(self) -> None:
        self.pages: Counter[str] = Counter()  # incident id -> pages taken about it
        self.first: dict[str, float] = {}  # incident id -> when its first page came (time.monotonic)
        self.arrivals: list[tuple[str, float]] = []  # (X-Notification-Id, monotonic) of each page taken, in order
        self.failing: str | None = None  # None (answers 200), "500" or "hang"
        self.refused = 0  # attempts answered 500 or left hanging
        self._changed = threading.Condition()
        self._healed = threading.Event()
        webhook = self

        class Handler(BaseHTTPRequestHandler):
            # Keep-alive, as real receivers answer: on HTTP/1.0 every page cost the sender a new
            # connection, which in a storm to one person was most of the sending lane's time.
            protocol_version = "HTTP/1.1"

            def answer(self, status: int) -> None:
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                arrived = time.monotonic()
                failing = webhook.failing
                if failing is not None:
                    with webhook._changed:
                        webhook.refused += 1
                    if failing == "hang":
                        # No answer until the fault ends; the sender's timeout gives up first.
                        webhook._healed.wait()
                        self.close_connection = True
                        return
                    self.answer(500)
                    return
                self.answer(200)
                try:
                    incident_id = str(json.loads(body)["incident"]["id"])
                except (ValueError, KeyError, TypeError):
                    return
                with webhook._changed:
                    webhook.pages[incident_id] += 1
                    webhook.first.setdefault(incident_id, arrived)
                    webhook.arrivals.append((self.headers.get("X-Notification-Id", ""), arrived))
                    webhook._changed.notify_all()

            def log_message(self, *_args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_port}/page"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def wait_for(self, incident_id: str, timeout: float) -> float | None:
        """When the first page about this incident arrived (time.monotonic), or None after `timeout`."""
        with self._changed:
            self._changed.wait_for(lambda: incident_id in self.first, timeout)
            return self.first.get(incident_id)

    @property
    def duplicates(self) -> int:
        """Pages beyond the first about an incident."""
        return sum(self.pages.values()) - len(self.pages)

    def fail(self, mode: str) -> None:
        """Answer 500 (mode "500") or hang (mode "hang") until heal()."""
        self._healed.clear()
        self.failing = mode

    def heal(self) -> None:
        """Answer 200 again (and let hanging requests go)."""
        self.failing = None
        self._healed.set()

    def __enter__(self) -> "Webhook":
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self.heal()
        self.server.shutdown()
        self.server.server_close()


@dataclass
class Platform:
    ingestion: ServiceProcess
    incidents: ServiceProcess
    oncall: ServiceProcess
    notifications: ServiceProcess

    def cpu_seconds(self) -> dict[str, float]:
        """CPU time (user + system) each service process has used so far."""
        ticks = os.sysconf("SC_CLK_TCK")
        used = {}
        for p in (self.ingestion, self.incidents, self.oncall, self.notifications):
            assert p.process is not None
            # Fields after the command name (which may hold spaces): utime and stime are the 12th and 13th.
            fields = Path(f"/proc/{p.process.pid}/stat").read_text().rsplit(")", 1)[1].split()
            used[p.module] = (int(fields[11]) + int(fields[12])) / ticks
        return used

    def peak_rss_mb(self) -> dict[str, float]:
        """The most memory each service process has held resident so far (VmHWM), in MiB."""
        peaks = {}
        for p in (self.ingestion, self.incidents, self.oncall, self.notifications):
            assert p.process is not None
            status = Path(f"/proc/{p.process.pid}/status").read_text()
            kib = next(line.split()[1] for line in status.splitlines() if line.startswith("VmHWM:"))
            peaks[p.module] = int(kib) / 1024
        return peaks

    def logs(self, tail: int = 2000) -> str:
        return "\n".join(
            f"--- {p.module} ---\n{p.output()[-tail:]}"
            for p in (self.ingestion, self.incidents, self.oncall, self.notifications)
        )


@contextlib.contextmanager
def throwaway_database(server_url: str) -> Iterator[str]:
    """A new database on that server, migrated to head, dropped afterwards."""
    server = make_url(server_url)
    name = f"bench_page_{uuid.uuid4().hex[:8]}"
    admin = server.set(drivername="postgresql", database="postgres").render_as_string(hide_password=False)
    url = server.set(drivername="postgresql", database=name).render_as_string(hide_password=False)
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        migrated(url)
        yield url
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@contextlib.contextmanager
def running_platform(database_url: str, log_dir: Path) -> Iterator[Platform]:
    """The four services as processes on a migrated database, stopped (SIGTERM) on exit."""
    env = {
        "ENVIRONMENT": "test",
        "INTERNAL_TOKENS": INTERNAL_TOKEN,
        "LOG_LEVEL": os.environ.get("LOG_LEVEL", "WARNING"),
        # Every alert must open its own incident: no joining the previous one.
        "CORRELATION_WINDOW_MINUTES": "0",
    }

    def service(role: str) -> ServiceProcess:
        return ServiceProcess(role, {**env, "DATABASE_URL": as_service(database_url, role)}, log_dir=log_dir)

    oncall = service("oncall_service")
    notifications = service("notification_service")
    incidents = service("incident_management")
    ingestion = service("alert_ingestion")
    wiring = {
        "ALERT_INGESTION_URL": ingestion.url,
        "INCIDENT_SERVICE_URL": incidents.url,
        "ONCALL_SERVICE_URL": oncall.url,
        "NOTIFICATION_SERVICE_URL": notifications.url,
    }
    with contextlib.ExitStack() as stack:
        for process in (oncall, notifications, incidents, ingestion):
            process.env.update(wiring)
            # Stop registered before start: an interrupt during start-up stops it too.
            stack.callback(process.stop)
            process.start()
        yield Platform(ingestion, incidents, oncall, notifications)


def _created(response: httpx.Response) -> dict:
    if response.status_code != 201:
        raise RuntimeError(f"{response.request.method} {response.request.url}: {response.status_code} {response.text}")
    return response.json()


def integration_key(platform: Platform, webhook_url: str) -> str:
    """Someone to page (via the webhook), a policy and a service paging her, and a key for it."""
    with httpx.Client(base_url=platform.oncall.url, timeout=10, headers=PLATFORM) as oncall:
        user = _created(
            oncall.post(
                "/api/v1/users",
                json={
                    "name": "Bench Responder",
                    "email": "responder@example.com",
                    "contact_methods": [{"type": "webhook", "address": webhook_url}],
                },
            )
        )
        # One level, a long delay: the measured page is the first one, never an escalation.
        level = {"delay_minutes": 1440, "targets": [{"type": "user", "id": user["id"]}]}
        policy = _created(oncall.post("/api/v1/escalation-policies", json={"name": SERVICE, "levels": [level]}))
        _created(oncall.post("/api/v1/services", json={"name": SERVICE, "escalation_policy_id": policy["id"]}))
    with httpx.Client(base_url=platform.ingestion.url, timeout=10, headers=PLATFORM) as ingestion:
        integration = _created(
            ingestion.post("/api/v1/integrations", json={"name": "bench", "service": SERVICE, "type": "generic"})
        )
    return integration["key"]


@dataclass
class Result:
    alerts: int = 0
    paged: int = 0
    accept_ms: list[float] = field(default_factory=list)  # send -> 202
    page_ms: list[float] = field(default_factory=list)  # send -> page at the webhook
    unpaged: list[int] = field(default_factory=list)  # numbers of the alerts no page came for
    refused: int = 0  # alerts not accepted (an error or no answer within 30 s)
    duplicate_pages: int = 0  # pages beyond the first for an incident
    cpu_seconds: dict[str, float] = field(default_factory=dict)  # per service, during the run
    incidents: int = 0  # incidents incident-management lists at the end
    rate: float | None = None  # alerts a second, when sent on a fixed schedule
    stages: dict[str, list[float]] = field(default_factory=dict)  # where the time went, per incident (ms)
    peak_rss_mb: dict[str, float] = field(default_factory=dict)  # per service, at the end of the run

    def figures(self) -> dict:
        """What the run measured, for bench/scorecard.py (--json)."""
        return {
            "alerts": self.alerts,
            "rate": self.rate,
            "paged": self.paged,
            "refused": self.refused,
            "duplicate_pages": self.duplicate_pages,
            "incidents": self.incidents,
            "accept_ms": spread(self.accept_ms),
            "page_ms": spread(self.page_ms),
            "paged_within_1s": sum(1 for ms in self.page_ms if ms <= 1000),
            "cpu_ms_per_incident": {name: 1000 * s / max(1, self.paged) for name, s in self.cpu_seconds.items()},
            "peak_rss_mb": self.peak_rss_mb,
        }


def send_alerts(
    platform: Platform, webhook: Webhook, key: str, *, alerts: int, warmup: int, gap: float, timeout: float
) -> Result:
    """Send `warmup` + `alerts` alerts one at a time; measure the last `alerts` of them."""
    result = Result(alerts=alerts)
    run = uuid.uuid4().hex[:8]
    headers = {"Authorization": f"Bearer {key}"}
    with httpx.Client(base_url=platform.ingestion.url, timeout=timeout, headers=headers) as ingestion:
        for number in range(-warmup, alerts):
            body = {
                "severity": "critical",
                "message": f"alert-to-page probe {number} of run {run}",
                "dedup_key": f"{run}-{number}",
                "source": "bench",
            }
            sent = time.monotonic()
            response = ingestion.post("/api/v1/alerts", json=body)
            accepted = time.monotonic()
            if response.status_code != 202 or response.json().get("action") != "created":
                raise RuntimeError(f"alert {number} did not open an incident: {response.status_code} {response.text}")
            arrived = webhook.wait_for(response.json()["incident_id"], timeout)
            if number >= 0:
                result.accept_ms.append(1000 * (accepted - sent))
                if arrived is None:
                    result.unpaged.append(number)
                else:
                    result.paged += 1
                    result.page_ms.append(1000 * (arrived - sent))
            if gap:
                time.sleep(gap)
    with httpx.Client(base_url=platform.incidents.url, timeout=10, headers=PLATFORM) as incidents:
        listed = incidents.get("/api/v1/incidents", params={"service": SERVICE, "limit": 1})
        result.incidents = listed.json()["total"] - warmup
    return result


def _send(client: httpx.Client, number: int, run: str) -> tuple[float, float, str | None]:
    """One alert opening an incident: (sent, accepted, incident id); no id when it was
    not accepted (a timeout, a refusal), counted as such instead of ending the run."""
    body = {
        "severity": "critical",
        "message": f"alert-to-page probe {number} of run {run}",
        "dedup_key": f"{run}-{number}",
        "source": "bench",
    }
    sent = time.monotonic()
    try:
        response = client.post("/api/v1/alerts", json=body)
    except httpx.HTTPError:
        return sent, time.monotonic(), None
    accepted = time.monotonic()
    if response.status_code != 202 or response.json().get("action") != "created":
        return sent, accepted, None
    return sent, accepted, response.json()["incident_id"]


def send_at_rate(
    platform: Platform, webhook: Webhook, key: str, *, rate: float, seconds: float, timeout: float
) -> Result:
    """Send rate*seconds alerts on a fixed schedule, each opening an incident, without
    waiting for pages; then wait up to `timeout` after the last one for every page."""
    total = round(rate * seconds)
    result = Result(alerts=total)
    run = uuid.uuid4().hex[:8]
    limits = httpx.Limits(max_connections=32, max_keepalive_connections=32)
    headers = {"Authorization": f"Bearer {key}"}
    with (
        httpx.Client(base_url=platform.ingestion.url, timeout=30, headers=headers, limits=limits) as ingestion,
        ThreadPoolExecutor(32) as senders,
    ):
        start = time.monotonic()
        sent = []
        for number in range(total):
            # The schedule, not the answers, sets the pace: a slow answer does not slow the storm.
            time.sleep(max(0.0, start + number / rate - time.monotonic()))
            sent.append(senders.submit(_send, ingestion, number, run))
        outcomes = [future.result() for future in sent]
    deadline = time.monotonic() + timeout
    for number, (sent_at, accepted, incident_id) in enumerate(outcomes):
        result.accept_ms.append(1000 * (accepted - sent_at))
        if incident_id is None:
            result.refused += 1
            result.unpaged.append(number)
            continue
        arrived = webhook.wait_for(incident_id, max(0.0, deadline - time.monotonic()))
        if arrived is None:
            result.unpaged.append(number)
        else:
            result.paged += 1
            result.page_ms.append(1000 * (arrived - sent_at))
    with httpx.Client(base_url=platform.incidents.url, timeout=10, headers=PLATFORM) as incidents:
        listed = incidents.get("/api/v1/incidents", params={"service": SERVICE, "limit": 1})
        result.incidents = listed.json()["total"]
    result.rate = rate
    return result


# Each incident's way to its first page, read back from the tables it left (one clock: the database server's).
STAGES = """
SELECT extract(epoch FROM c.finished_at - a.received_at) * 1000 AS alert_to_opened,
       extract(epoch FROM t.created_at - c.finished_at) * 1000 AS opened_to_assigned,
       extract(epoch FROM p.created_at - t.created_at) * 1000 AS assigned_to_queued,
       extract(epoch FROM p.sent_at - p.created_at) * 1000 AS queued_to_accepted,
       extract(epoch FROM n.delivered_at - n.created_at) * 1000 AS accepted_to_delivered
  FROM alerts a
  JOIN LATERAL (SELECT updated_at AS finished_at FROM alert_incident_actions
                 WHERE incident_id = a.incident_id AND action = 'create') c ON true
  JOIN LATERAL (SELECT min(created_at) AS created_at FROM incident_timeline
                 WHERE incident_id = a.incident_id AND event_type = 'assigned') t ON true
  JOIN LATERAL (SELECT created_at, sent_at, idempotency_key FROM incident_pages
                 WHERE incident_id = a.incident_id ORDER BY created_at LIMIT 1) p ON true
  JOIN LATERAL (SELECT min(created_at) AS created_at, min(delivered_at) AS delivered_at FROM notifications
                 WHERE incident_id = a.incident_id) n ON true
 WHERE a.action = 'created'
"""
# alert_to_opened ends when alert-ingestion recorded incident-management's answer
# to its create (or its fallback), so opened_to_assigned may come out negative:
# the engine can assign before that answer is recorded.


def stages(database_url: str) -> dict[str, list[float]]:
    """Per stage, how long each incident spent in it, from alert stored to page delivered."""
    with psycopg.connect(database_url) as conn:
        cursor = conn.execute(STAGES)
        names = [column.name for column in cursor.description]
        rows = cursor.fetchall()
    return {name: [float(row[i]) for row in rows if row[i] is not None] for i, name in enumerate(names)}


def percentile(values: list[float], p: float) -> float:
    """Nearest rank: the smallest value with at least p% of the values at or below it."""
    if not values:
        return math.nan
    ordered = sorted(values)
    return ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)]


def spread(values: list[float]) -> dict[str, float]:
    """p50, p95, p99 and the largest of the values (NaN when there are none)."""
    return {
        "p50": percentile(values, 50),
        "p95": percentile(values, 95),
        "p99": percentile(values, 99),
        "max": percentile(values, 100),
    }


def report(result: Result) -> str:
    def line(label: str, values: list[float]) -> str:
        figures = " / ".join(f"{percentile(values, p):7.1f}" for p in (50, 95, 99, 100))
        return f"  {label:<22}{figures} ms"

    how = f"at {result.rate:g} a second" if result.rate else "one at a time"
    lines = [
        f"alert to page, {result.alerts} alerts {how}, each opening an incident:",
        "                        p50     / p95     / p99     / max",
        line("alert accepted (202)", result.accept_ms),
        line("page at the webhook", result.page_ms),
        f"  pages received        {result.paged} of {result.alerts}"
        + (
            f" (none for alerts {result.unpaged[:20]}{' ...' if len(result.unpaged) > 20 else ''})"
            if result.unpaged
            else ""
        ),
        f"  incidents opened      {result.incidents}",
        "  peak RSS              " + ", ".join(f"{name} {mib:.0f} MiB" for name, mib in result.peak_rss_mb.items()),
    ]
    if result.rate:
        lines.append(f"  alerts not accepted   {result.refused}")
        lines.append(f"  duplicate pages       {result.duplicate_pages}")
        lines.append(
            "  CPU during the run    "
            + ", ".join(f"{name} {seconds:.1f} s" for name, seconds in result.cpu_seconds.items())
        )
        within = {limit: sum(1 for ms in result.page_ms if ms <= 1000 * limit) for limit in (1, 5, 60)}
        lines.append("  paged within          " + ", ".join(f"{n} in {s} s" for s, n in within.items()))
        lines.append("  where the time went (from the tables):")
        lines += [line(name.replace("_", " "), values) for name, values in result.stages.items()]
    return "\n".join(lines)


def measure(
    database_url: str,
    *,
    alerts: int,
    warmup: int = 2,
    gap: float = 0.05,
    timeout: float = 30.0,
    rate: float | None = None,
    seconds: float = 60.0,
    logs: Path | None = None,
) -> Result:
    """Start the platform on `database_url` (migrated), send the alerts, stop everything.
    The services' logs go to `logs` (kept), else to a temporary directory (removed)."""
    log_dir = logs or Path(tempfile.mkdtemp(prefix="bench-page-"))
    try:
        with Webhook() as webhook, running_platform(database_url, log_dir) as platform:
            key = integration_key(platform, webhook.url)
            if rate:
                before = platform.cpu_seconds()
                result = send_at_rate(platform, webhook, key, rate=rate, seconds=seconds, timeout=timeout)
                after = platform.cpu_seconds()
                result.cpu_seconds = {name: after[name] - before[name] for name in after}
                result.duplicate_pages = webhook.duplicates
                result.stages = stages(database_url)
            else:
                result = send_alerts(platform, webhook, key, alerts=alerts, warmup=warmup, gap=gap, timeout=timeout)
            result.peak_rss_mb = platform.peak_rss_mb()
            if result.unpaged:
                print(platform.logs(), file=sys.stderr)
            return result
    finally:
        if logs is None:
            shutil.rmtree(log_dir, ignore_errors=True)


def _stop_on_sigterm() -> None:
    # SIGTERM unwinds like Ctrl-C, so the services are stopped and the database dropped.
    def _raise(_signum: int, _frame: object) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, _raise)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url", default=os.environ.get("TEST_DATABASE_URL"), help="PostgreSQL server")
    parser.add_argument("--alerts", type=int, default=100, help="alerts measured")
    parser.add_argument("--warmup", type=int, default=2, help="alerts sent first and not measured")
    parser.add_argument("--gap", type=float, default=0.05, help="seconds between a page and the next alert")
    parser.add_argument("--timeout", type=float, default=30.0, help="seconds to wait for each page")
    parser.add_argument("--rate", type=float, help="send this many alerts a second on a fixed schedule")
    parser.add_argument("--seconds", type=float, default=60.0, help="with --rate: for how long")
    parser.add_argument("--logs", type=Path, help="keep the services' logs in this directory")
    parser.add_argument("--json", type=Path, help="also write the figures to this file (bench/scorecard.py)")
    args = parser.parse_args()
    if not args.database_url:
        parser.error("give --database-url or set TEST_DATABASE_URL (a PostgreSQL server)")
    _stop_on_sigterm()
    try:
        with throwaway_database(args.database_url) as url:
            result = measure(
                url,
                alerts=args.alerts,
                warmup=args.warmup,
                gap=args.gap,
                timeout=args.timeout,
                rate=args.rate,
                seconds=args.seconds,
                logs=args.logs,
            )
    except KeyboardInterrupt:
        print("interrupted: services stopped, database dropped", file=sys.stderr)
        return 130
    print(report(result))
    if args.json:
        args.json.write_text(json.dumps(result.figures()))
    print(f"(load average {' '.join(Path('/proc/loadavg').read_text().split()[:3])}; shared machine: noisy)")
    return 0 if result.paged == result.alerts and not result.duplicate_pages else 1


if __name__ == "__main__":
    sys.exit(main())
