"""Faults under steady load: the four services as real processes on a
PostgreSQL of the run's own (platform_testing.local_postgres, so it can be
restarted; never the machine's server), a sender at a steady rate across many
services, and one fault in the middle of each run.

    .venv/bin/python bench/faults.py                      # every fault, then the table
    .venv/bin/python bench/faults.py --fault kill:incident_management --rate 10 --seconds 30

Alerts of one service share a dedup key
for WAVE of that service's alerts in turn, so a new incident opens every few
seconds in each service, before, during and after the fault (correlation is
off: each dedup key is one incident), and each of them must be paged once. The sender behaves as Alertmanager
does: an alert not answered 2xx (refused, or no answer at all) is sent again,
after its Retry-After when there is one, until it is taken or the run gives
up on it (--give-up seconds after the last alert was due).

Faults (each restarted service comes back on the same port):

- kill:<service>     SIGKILL, started again after 5 s (a crash and its restart)
- term:<service>     SIGTERM, started again at once (a rolling restart of one replica)
- postgres-restart   PostgreSQL stopped (fast shutdown) and started again

Per fault it prints: alerts sent; answers 2xx; refused (answers that were
not 2xx, and how many of those said Retry-After); no answer (connection
refused or timed out); alerts stored (the triggers counted on each dedup key's
alert row); lost (taken, never stored, per dedup key); stored twice (a retried
alert whose first answer was lost, counted a second time); incidents (and duplicated: a second incident for one dedup
key); pages at the webhook (and duplicated: a second page about one
incident); unpaged incidents; time to recover (from the fault until the last
alert that was not taken at once was taken); the longest wait from an
incident's first alert to its page. Exits non-zero when anything was lost, an
incident or a page was duplicated, or an incident was never paged.

Not here yet: incident-management or notification-service down for 10
minutes, a 30 s PostgreSQL outage, webhook receivers that fail or hang.
"""

import argparse
import contextlib
import json
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

from platform_testing import LocalPostgres, ServiceProcess, as_service, migrated

SERVICES = ("alert_ingestion", "incident_management", "notification_service", "oncall_service")
FAULTS = (
    *(f"kill:{name}" for name in SERVICES),
    *(f"term:{name}" for name in SERVICES),
    "postgres-restart",
)
INTERNAL_TOKEN = secrets.token_urlsafe(24)
PLATFORM = {"Authorization": f"Bearer {INTERNAL_TOKEN}"}
KILLED_FOR = 5.0  # seconds a SIGKILLed service stays down
WAVE = 5  # alerts of one service per dedup key (per incident)


class Webhook:
    """The on-call engineer's phone: counts the pages about each incident."""

    def __init__(self) -> None:
        self.pages: Counter[str] = Counter()
        self.first: dict[str, float] = {}  # incident id -> when its first page came (monotonic)
        self._lock = threading.Lock()
        webhook = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                self.send_response(200)
                self.end_headers()
                try:
                    incident_id = str(json.loads(body)["incident"]["id"])
                except (ValueError, KeyError, TypeError):
                    return
                with webhook._lock:
                    webhook.pages[incident_id] += 1
                    webhook.first.setdefault(incident_id, time.monotonic())

            def log_message(self, *_args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/page"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> "Webhook":
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()


@dataclass
class Platform:
    processes: dict[str, ServiceProcess]
    postgres: LocalPostgres
    database_url: str

    def url(self, name: str) -> str:
        return self.processes[name].url


@contextlib.contextmanager
def running_platform(work_dir: Path) -> Iterator[Platform]:
    """A PostgreSQL of its own, migrated, and the four services on it; all stopped on exit."""
    with LocalPostgres(work_dir / "pgdata") as postgres:
        with psycopg.connect(postgres.url(), autocommit=True) as conn:
            conn.execute('CREATE DATABASE "faults"')
        database_url = postgres.url("faults")
        migrated(database_url)
        env = {
            "ENVIRONMENT": "test",
            "INTERNAL_TOKENS": INTERNAL_TOKEN,
            "LOG_LEVEL": os.environ.get("LOG_LEVEL", "WARNING"),
            # Each dedup key its own incident: incidents open all through the run.
            "CORRELATION_WINDOW_MINUTES": "0",
        }
        processes = {
            name: ServiceProcess(name, {**env, "DATABASE_URL": as_service(database_url, name)}, log_dir=work_dir)
            for name in SERVICES
        }
        wiring = {
            "ALERT_INGESTION_URL": processes["alert_ingestion"].url,
            "INCIDENT_SERVICE_URL": processes["incident_management"].url,
            "ONCALL_SERVICE_URL": processes["oncall_service"].url,
            "NOTIFICATION_SERVICE_URL": processes["notification_service"].url,
        }
        with contextlib.ExitStack() as stack:
            for name in ("oncall_service", "notification_service", "incident_management", "alert_ingestion"):
                processes[name].env.update(wiring)
                stack.callback(processes[name].stop)
                processes[name].start(timeout=60)
            yield Platform(processes, postgres, database_url)


def _created(response: httpx.Response) -> dict:
    if response.status_code != 201:
        raise RuntimeError(f"{response.request.method} {response.request.url}: {response.status_code} {response.text}")
    return response.json()


def integration_keys(platform: Platform, webhook_url: str, services: int, run: str) -> list[str]:
    """One responder (the webhook), a policy paging her, `services` services on it, a key for each."""
    keys = []
    with (
        httpx.Client(base_url=platform.url("oncall_service"), timeout=10, headers=PLATFORM) as oncall,
        httpx.Client(base_url=platform.url("alert_ingestion"), timeout=10, headers=PLATFORM) as ingestion,
    ):
        user = _created(
            oncall.post(
                "/api/v1/users",
                json={
                    "name": "Fault Responder",
                    "email": f"responder-{run}@example.com",
                    "contact_methods": [{"type": "webhook", "address": webhook_url}],
                },
            )
        )
        # One level, a long delay: every page counted is an incident's first one.
        level = {"delay_minutes": 1440, "targets": [{"type": "user", "id": user["id"]}]}
        policy = _created(oncall.post("/api/v1/escalation-policies", json={"name": f"faults-{run}", "levels": [level]}))
        for number in range(services):
            name = f"faults-{run}-{number}"
            _created(oncall.post("/api/v1/services", json={"name": name, "escalation_policy_id": policy["id"]}))
            body = {"name": name, "service": name, "type": "generic"}
            keys.append(_created(ingestion.post("/api/v1/integrations", json=body))["key"])
    return keys


@dataclass
class Tally:
    fault: str
    sent: int = 0
    ok: int = 0  # answers 2xx
    refused: int = 0  # answers that were not 2xx
    retry_after: int = 0  # ... of which said Retry-After
    no_answer: int = 0  # connection refused, reset or timed out
    given_up: int = 0  # alerts never taken
    stored: int = 0
    lost: int = 0
    duplicated: int = 0
    services: int = 0
    keys: int = 0  # dedup keys of the alerts sent: the incidents expected
    incidents: int = 0
    incidents_duplicated: int = 0
    pages: int = 0
    pages_duplicated: int = 0
    unpaged: int = 0
    recovery_s: float = 0.0
    page_wait_s: float = 0.0  # longest from an incident's first alert sent to its first page
    taken: Counter[str] = field(default_factory=Counter)  # dedup key -> alerts of it answered 2xx
    first_sent: dict[str, float] = field(default_factory=dict)  # dedup key -> first send (monotonic)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def clean(self) -> bool:
        return not (self.lost or self.given_up or self.incidents_duplicated or self.pages_duplicated or self.unpaged)


class Sender:
    """Sends alert `number` until it is taken (2xx) or the run gives up on it."""

    def __init__(self, platform: Platform, keys: list[str], tally: Tally, run: str, give_up_at: float) -> None:
        self.platform = platform
        self.keys = keys
        self.tally = tally
        self.run = run
        self.give_up_at = give_up_at
        self.last_failure: float | None = None
        limits = httpx.Limits(max_connections=64, max_keepalive_connections=64)
        self.client = httpx.Client(timeout=10, limits=limits)

    def send(self, number: int) -> None:
        service = number % len(self.keys)
        key = self.keys[service]
        dedup_key = f"{self.run}-{service}-{number // (len(self.keys) * WAVE)}"
        message = f"fault probe {self.run} {number}"
        body = {"severity": "critical", "message": message, "dedup_key": dedup_key}
        with self.tally._lock:
            self.tally.first_sent.setdefault(dedup_key, time.monotonic())
        failed = False
        while True:
            wait = 0.5
            try:
                response = self.client.post(
                    f"{self.platform.url('alert_ingestion')}/api/v1/alerts",
                    json=body,
                    headers={"Authorization": f"Bearer {key}"},
                )
            except httpx.HTTPError:
                self._count(no_answer=1)
            else:
                if 200 <= response.status_code < 300:
                    with self.tally._lock:
                        self.tally.ok += 1
                        self.tally.taken[dedup_key] += 1
                    if failed:
                        self.last_failure = max(self.last_failure or 0.0, time.monotonic())
                    return
                retry_after = response.headers.get("Retry-After")
                self._count(refused=1, retry_after=1 if retry_after else 0)
                with contextlib.suppress(ValueError, TypeError):
                    wait = min(float(retry_after), 10.0)
            failed = True
            if time.monotonic() + wait > self.give_up_at:
                self._count(given_up=1)
                return
            time.sleep(wait)

    def _count(self, **counts: int) -> None:
        with self.tally._lock:
            for name, value in counts.items():
                setattr(self.tally, name, getattr(self.tally, name) + value)


def inject(platform: Platform, fault: str) -> None:
    """Do the fault and bring the platform back."""
    kind, _, name = fault.partition(":")
    if kind == "kill":
        platform.processes[name].stop(signal.SIGKILL)
        time.sleep(KILLED_FOR)
        platform.processes[name].start(timeout=60)
    elif kind == "term":
        platform.processes[name].stop(signal.SIGTERM, timeout=60)
        platform.processes[name].start(timeout=60)
    elif fault == "postgres-restart":
        platform.postgres.restart()
    else:
        raise ValueError(f"unknown fault {fault!r}; one of {', '.join(FAULTS)}")


def count_outcome(platform: Platform, webhook: Webhook, tally: Tally, run: str, settle: float) -> None:
    """Read what was stored, opened and paged; wait up to `settle` seconds for
    every dedup key's incident to be opened and paged first."""
    deadline = time.monotonic() + settle
    while True:
        with psycopg.connect(platform.database_url) as conn:
            # Repeats of a dedup key are one row counting its triggers (trigger_count):
            # what was stored is counted per dedup key, against what was taken of it.
            stored = Counter(
                dict(
                    conn.execute(
                        "SELECT dedup_key, sum(trigger_count)::int FROM alerts WHERE dedup_key LIKE %s"
                        " GROUP BY dedup_key",
                        (f"{run}-%",),
                    ).fetchall()
                )
            )
            # The incidents each dedup key opened (the alert that opened one is 'created').
            opened = conn.execute(
                "SELECT a.dedup_key, a.incident_id::text FROM alerts a JOIN incidents i ON i.id = a.incident_id"
                " WHERE a.action = 'created' AND a.dedup_key LIKE %s",
                (f"{run}-%",),
            ).fetchall()
        unpaged = [incident for _, incident in opened if incident not in webhook.pages]
        unopened = len(tally.first_sent) - len({key for key, _ in opened})
        if (not unpaged and not unopened) or time.monotonic() > deadline:
            break
        time.sleep(1)
    time.sleep(2)  # a late second page would show here
    tally.stored = stored.total()
    tally.lost = (tally.taken - stored).total()  # Counter subtraction keeps what is above zero
    tally.duplicated = (stored - tally.taken).total()
    per_key = Counter(key for key, _ in opened)
    tally.keys = len(tally.first_sent)
    tally.incidents = len(opened)
    tally.incidents_duplicated = sum(count - 1 for count in per_key.values())
    ours = {incident for _, incident in opened}
    tally.pages = sum(count for incident, count in webhook.pages.items() if incident in ours)
    tally.pages_duplicated = sum(count - 1 for incident, count in webhook.pages.items() if incident in ours)
    tally.unpaged = len(unpaged) + (tally.keys - len(per_key))  # never opened: never paged either
    waits = [webhook.first[incident] - tally.first_sent[key] for key, incident in opened if incident in webhook.first]
    tally.page_wait_s = max(waits, default=0.0)


def run_fault(
    platform: Platform, fault: str, *, rate: float, seconds: float, services: int, give_up: float, settle: float
) -> Tally:
    """A steady sender for `seconds`, `fault` a third of the way in; then count."""
    run = uuid.uuid4().hex[:8]
    tally = Tally(fault=fault, services=services)
    with Webhook() as webhook:
        keys = integration_keys(platform, webhook.url, services, run)
        total = round(rate * seconds)
        start = time.monotonic()
        sender = Sender(platform, keys, tally, run, give_up_at=start + seconds + give_up)
        fault_at = start + seconds / 3
        with ThreadPoolExecutor(64) as pool:
            injected = None
            for number in range(total):
                time.sleep(max(0.0, start + number / rate - time.monotonic()))
                if injected is None and time.monotonic() >= fault_at:
                    injected = pool.submit(inject, platform, fault)
                pool.submit(sender.send, number)
                tally.sent += 1
            if injected is not None:
                injected.result()
        sender.client.close()
        tally.recovery_s = max(0.0, (sender.last_failure or fault_at) - fault_at)
        count_outcome(platform, webhook, tally, run, settle)
    return tally


COLUMNS = (
    ("fault", "fault", 33),
    ("sent", "sent", 6),
    ("ok", "2xx", 6),
    ("refused", "refused", 8),
    ("retry_after", "w/ R-A", 7),
    ("no_answer", "no ans", 7),
    ("stored", "stored", 7),
    ("lost", "lost", 5),
    ("duplicated", "twice", 6),
    ("incidents", "incid.", 7),
    ("incidents_duplicated", "dup", 4),
    ("pages", "pages", 6),
    ("pages_duplicated", "dup", 4),
    ("unpaged", "unpaged", 8),
    ("recovery_s", "recover s", 10),
    ("page_wait_s", "page wait s", 12),
)


def table(tallies: list[Tally]) -> str:
    """The figures as a Markdown table."""
    head = "| " + " | ".join(title for _, title, _ in COLUMNS) + " |"
    rule = "|" + "|".join("-" * (len(title) + 2) for _, title, _ in COLUMNS) + "|"
    rows = []
    for tally in tallies:
        cells = []
        for name, _, _ in COLUMNS:
            value = getattr(tally, name)
            cells.append(f"{value:.1f}" if isinstance(value, float) else str(value))
        rows.append("| " + " | ".join(cells) + " |")
    return "\n".join([head, rule, *rows])


def run_faults(
    faults: list[str],
    *,
    rate: float,
    seconds: float,
    services: int,
    give_up: float = 60.0,
    settle: float = 90.0,
    keep: Path | None = None,
) -> list[Tally]:
    """Each fault in turn on one platform (new services and keys for each run)."""
    work_dir = keep or Path(tempfile.mkdtemp(prefix="faults-"))
    tallies = []
    try:
        with running_platform(work_dir) as platform:
            for fault in faults:
                tally = run_fault(
                    platform, fault, rate=rate, seconds=seconds, services=services, give_up=give_up, settle=settle
                )
                print(table([tally]).splitlines()[-1], flush=True)
                tallies.append(tally)
    finally:
        if keep is None:
            shutil.rmtree(work_dir, ignore_errors=True)
    return tallies


def _stop_on_sigterm() -> None:
    def _raise(_signum: int, _frame: object) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, _raise)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--fault", action="append", choices=FAULTS, help="this fault (repeatable; default: all)")
    parser.add_argument("--rate", type=float, default=50.0, help="alerts a second")
    parser.add_argument("--seconds", type=float, default=60.0, help="seconds of sending per fault")
    parser.add_argument("--services", type=int, default=50, help="services the alerts are spread over")
    parser.add_argument("--keep", type=Path, help="keep the data and logs in this directory")
    args = parser.parse_args()
    _stop_on_sigterm()
    faults = args.fault or list(FAULTS)
    print(f"{len(faults)} faults, {args.rate:g} alerts/s for {args.seconds:g} s across {args.services} services")
    try:
        tallies = run_faults(faults, rate=args.rate, seconds=args.seconds, services=args.services, keep=args.keep)
    except KeyboardInterrupt:
        print("interrupted: services and PostgreSQL stopped", file=sys.stderr)
        return 130
    print(table(tallies))
    print(f"(load average {' '.join(Path('/proc/loadavg').read_text().split()[:3])}; {os.cpu_count()} CPUs)")
    return 0 if all(tally.clean for tally in tallies) else 1


if __name__ == "__main__":
    sys.exit(main())
