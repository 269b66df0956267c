"""Faults under steady load: the four services as real processes on a
PostgreSQL of the run's own (platform_testing.local_postgres, so it can be
restarted; never the machine's server), a sender at a steady rate across many
services, and one fault in the middle of each run.

    .venv/bin/python bench/faults.py                      # the short faults, then the table
    .venv/bin/python bench/faults.py --long --rate 20     # the long ones (about 45 minutes)
    .venv/bin/python bench/faults.py --fault kill:incident_management --rate 10 --seconds 30

Alerts of one service share a dedup key
for WAVE of that service's alerts in turn, so a new incident opens every few
seconds in each service, before, during and after the fault (correlation is
off: each dedup key is one incident), and each of them must be paged once. The sender behaves as Alertmanager
does: an alert not answered 2xx (refused, or no answer at all) is sent again,
after its Retry-After when there is one, until it is taken or the run gives
up on it (--give-up seconds after the last alert was due). Sending lasts
--seconds plus the fault's own length; the fault starts a third of --seconds in.

Faults (each restarted service comes back on the same port):

- kill:<service>            SIGKILL, started again after 5 s (a crash and its restart)
- term:<service>            SIGTERM, started again at once (a rolling restart of one replica)
- kill-one:alert_ingestion  two alert-ingestion processes, the sender spreading alerts over
                            both and sending one that got no answer to the other at once (as a
                            load balancer does); one SIGKILLed, started again after 5 s
- postgres-restart          PostgreSQL stopped (fast shutdown) and started again
- down:<service>:<s>        SIGTERM, started again <s> seconds later (a long outage)
- postgres-outage:<s>       PostgreSQL stopped, started again <s> seconds later
- webhook-500:<s>           every incident pages two people; one's webhook answers 500 for <s>
- webhook-hang:<s>          ... one's webhook takes the request and does not answer for <s>

The defaults are the short ones (FAULTS); --long runs LONG_FAULTS, the
durations issue 28 asks: incident-management and notification-service down
for 10 minutes, PostgreSQL for 30 s, a webhook failing or hanging for 5.

Per fault it prints: alerts sent; answers 2xx; refused (answers that were
not 2xx, and how many of those said Retry-After); no answer (connection
refused or timed out); alerts stored (the triggers counted on each dedup key's
alert row); lost (taken, never stored, per dedup key); stored twice (a retried
alert whose first answer was lost, counted a second time); incidents (and duplicated: a second incident for one dedup
key); pages at the webhooks (and duplicated: a second page about one
incident to one person); unpaged (incident, person) pairs; time to recover (from the fault until the last
alert that was not taken at once was taken); the longest wait from an
incident's first alert to its page (at the healthy person); pages out of order
(a page that reached its person after one notification-service made later);
the healthy person's longest page wait for incidents opened before the fault
and during it; for the webhook faults, the attempts the failing receiver
refused and how long after its recovery its last page came. Exits non-zero
when anything was lost, an incident or a page was duplicated, or an incident
was never paged.

Not here yet: the issue's 200 alerts a second (the shared 2-core machine
sustains about 20 with the platform and the sender on it); several
notification-service or incident-management replicas; a receiver that
answers slowly but does answer.
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
from pathlib import Path

import httpx
import psycopg
from alert_to_page import Webhook  # bench/ is the script's own directory

from platform_testing import LocalPostgres, ServiceProcess, as_service, migrated

SERVICES = ("alert_ingestion", "incident_management", "notification_service", "oncall_service")
# The short faults (default), then the long ones with the durations (--long).
FAULTS = (
    *(f"kill:{name}" for name in SERVICES),
    *(f"term:{name}" for name in SERVICES),
    "postgres-restart",
    "kill-one:alert_ingestion",
)
LONG_FAULTS = (
    "down:incident_management:600",
    "down:notification_service:600",
    "postgres-outage:30",
    "webhook-500:300",
    "webhook-hang:300",
)
INTERNAL_TOKEN = secrets.token_urlsafe(24)
PLATFORM = {"Authorization": f"Bearer {INTERNAL_TOKEN}"}
KILLED_FOR = 5.0  # seconds a SIGKILLed service stays down
WAVE = 5  # alerts of one service per dedup key (per incident)
REPLICA = "alert_ingestion-2"  # the second alert-ingestion process of kill-one:alert_ingestion


def parse_fault(fault: str) -> str:
    """The fault, checked: `kind:service`, `kind:service:seconds` or `kind:seconds` as the docstring lists."""
    kind, *args = fault.split(":")
    try:
        if kind in ("kill", "term") and len(args) == 1 and args[0] in SERVICES:
            return fault
        if kind == "kill-one" and args == ["alert_ingestion"]:
            return fault
        if kind == "down" and len(args) == 2 and args[0] in SERVICES and float(args[1]) > 0:
            return fault
        if kind in ("postgres-outage", "webhook-500", "webhook-hang") and len(args) == 1 and float(args[0]) > 0:
            return fault
        if fault == "postgres-restart":
            return fault
    except ValueError:
        pass
    raise argparse.ArgumentTypeError(f"unknown fault {fault!r}; e.g. {', '.join(FAULTS + LONG_FAULTS)}")


def outage(fault: str) -> float:
    """Seconds the fault lasts (sending goes on that much longer, so load is steady before, during and after)."""
    kind, *args = fault.split(":")
    if kind in ("kill", "kill-one"):
        return KILLED_FOR
    if kind in ("down", "postgres-outage", "webhook-500", "webhook-hang"):
        return float(args[-1])
    return 0.0


@dataclass
class Platform:
    processes: dict[str, ServiceProcess]
    postgres: LocalPostgres
    database_url: str
    env: dict[str, str]  # what alert-ingestion was started with, for a second replica

    def url(self, name: str) -> str:
        return self.processes[name].url

    @contextlib.contextmanager
    def second_ingestion(self) -> Iterator[None]:
        """A second alert-ingestion process on the same database (processes[REPLICA]) for the `with` block."""
        replica = ServiceProcess("alert_ingestion", self.env, log_dir=self.processes["alert_ingestion"].log_path.parent)
        self.processes[REPLICA] = replica
        try:
            replica.start()
            yield
        finally:
            replica.stop()
            del self.processes[REPLICA]


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
                processes[name].start()
            yield Platform(processes, postgres, database_url, dict(processes["alert_ingestion"].env))


def _created(response: httpx.Response) -> dict:
    if response.status_code != 201:
        raise RuntimeError(f"{response.request.method} {response.request.url}: {response.status_code} {response.text}")
    return response.json()


def integration_keys(platform: Platform, webhook_urls: list[str], services: int, run: str) -> list[str]:
    """A responder for each webhook, a policy paging them all, `services` services on it, a key for each."""
    keys = []
    with (
        httpx.Client(base_url=platform.url("oncall_service"), timeout=10, headers=PLATFORM) as oncall,
        httpx.Client(base_url=platform.url("alert_ingestion"), timeout=10, headers=PLATFORM) as ingestion,
    ):
        targets = []
        for number, webhook_url in enumerate(webhook_urls):
            body = {
                "name": f"Fault Responder {number}",
                "email": f"responder-{run}-{number}@example.com",
                "contact_methods": [{"type": "webhook", "address": webhook_url}],
            }
            targets.append({"type": "user", "id": _created(oncall.post("/api/v1/users", json=body))["id"]})
        # One level, a long delay: every page counted is an incident's first one.
        level = {"delay_minutes": 1440, "targets": targets}
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
    out_of_order: int = 0  # pages that reached their person after a page created later than them
    wait_before_s: float = 0.0  # the healthy phone's longest page wait, incidents opened before the fault
    wait_during_s: float = 0.0  # ... incidents opened during the fault
    receiver_refused: int = 0  # attempts the failing receiver answered 500 or left hanging
    receiver_caught_up_s: float = 0.0  # from its recovery to the last page it took
    taken: Counter[str] = field(default_factory=Counter)  # dedup key -> alerts of it answered 2xx
    first_sent: dict[str, float] = field(default_factory=dict)  # dedup key -> first send (monotonic)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def clean(self) -> bool:
        return not (self.lost or self.given_up or self.incidents_duplicated or self.pages_duplicated or self.unpaged)

    def _count(self, **counts: int) -> None:
        with self._lock:
            for name, value in counts.items():
                setattr(self, name, getattr(self, name) + value)


class Sender:
    """Sends alert `number` until it is taken (2xx) or the run gives up on it.

    With more than one alert-ingestion process it spreads the alerts over them
    and sends one that got no answer to the next at once, as a load balancer
    in front of replicas does."""

    def __init__(self, urls: list[str], keys: list[str], tally: Tally, run: str, give_up_at: float) -> None:
        self.urls = urls
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
        target = number  # which replica: round robin
        unanswered = 0  # replicas in a row that did not answer
        while True:
            wait = 0.5
            try:
                response = self.client.post(
                    f"{self.urls[target % len(self.urls)]}/api/v1/alerts",
                    json=body,
                    headers={"Authorization": f"Bearer {key}"},
                )
            except httpx.HTTPError:
                self.tally._count(no_answer=1)
                target += 1
                unanswered += 1
                if unanswered < len(self.urls):
                    wait = 0.0  # the next replica at once
                else:
                    unanswered = 0
            else:
                if 200 <= response.status_code < 300:
                    with self.tally._lock:
                        self.tally.ok += 1
                        self.tally.taken[dedup_key] += 1
                    if failed:
                        self.last_failure = max(self.last_failure or 0.0, time.monotonic())
                    return
                retry_after = response.headers.get("Retry-After")
                self.tally._count(refused=1, retry_after=1 if retry_after else 0)
                with contextlib.suppress(ValueError, TypeError):
                    wait = min(float(retry_after), 10.0)
            failed = True
            if time.monotonic() + wait > self.give_up_at:
                self.tally._count(given_up=1)
                return
            time.sleep(wait)


def inject(platform: Platform, fault: str, receiver: Webhook) -> None:
    """Do the fault and bring the platform back (`receiver` is the phone a webhook fault fails)."""
    kind, *args = fault.split(":")
    if kind == "kill":
        platform.processes[args[0]].stop(signal.SIGKILL)
        time.sleep(KILLED_FOR)
        platform.processes[args[0]].start()
    elif kind == "kill-one":
        platform.processes[REPLICA].stop(signal.SIGKILL)
        time.sleep(KILLED_FOR)
        platform.processes[REPLICA].start()
    elif kind == "term":
        platform.processes[args[0]].stop(signal.SIGTERM, timeout=60)
        platform.processes[args[0]].start()
    elif kind == "down":
        platform.processes[args[0]].stop(signal.SIGTERM, timeout=60)
        time.sleep(outage(fault))
        platform.processes[args[0]].start()
    elif kind == "postgres-restart":
        platform.postgres.restart()
    elif kind == "postgres-outage":
        platform.postgres.restart(down_for=outage(fault))
    elif kind in ("webhook-500", "webhook-hang"):
        receiver.fail(kind.removeprefix("webhook-"))
        time.sleep(outage(fault))
        receiver.heal()
    else:
        raise ValueError(parse_fault(fault))


@dataclass
class Phones:
    """The run's receivers: `healthy` always answers; `failing` (webhook faults only) is the one failed."""

    healthy: Webhook
    failing: Webhook | None = None

    def all(self) -> list[Webhook]:
        return [self.healthy] if self.failing is None else [self.healthy, self.failing]


def out_of_order(conn: psycopg.Connection, webhook: Webhook) -> int:
    """Pages that reached the person after a page created later (notification-service sends oldest first)."""
    ids = [notification for notification, _ in webhook.arrivals]
    created = dict(conn.execute("SELECT id::text, created_at FROM notifications WHERE id::text = ANY(%s)", (ids,)))
    latest, late = None, 0
    for notification in ids:
        at = created.get(notification)
        if at is None:
            continue
        if latest is not None and at < latest:
            late += 1
        latest = max(latest or at, at)
    return late


def count_outcome(
    platform: Platform, phones: Phones, tally: Tally, run: str, settle: float, fault_at: float, fault_end: float
) -> None:
    """Read what was stored, opened and paged; wait up to `settle` seconds for
    every dedup key's incident to be opened and paged first (on every phone)."""
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
        unpaged = [(incident, phone) for _, incident in opened for phone in phones.all() if incident not in phone.pages]
        unopened = len(tally.first_sent) - len({key for key, _ in opened})
        if (not unpaged and not unopened) or time.monotonic() > deadline:
            break
        time.sleep(1)
    time.sleep(2)  # a late second page would show here
    with psycopg.connect(platform.database_url) as conn:
        tally.out_of_order = sum(out_of_order(conn, phone) for phone in phones.all())
    tally.stored = stored.total()
    tally.lost = (tally.taken - stored).total()  # Counter subtraction keeps what is above zero
    tally.duplicated = (stored - tally.taken).total()
    per_key = Counter(key for key, _ in opened)
    tally.keys = len(tally.first_sent)
    tally.incidents = len(opened)
    tally.incidents_duplicated = sum(count - 1 for count in per_key.values())
    ours = {incident for _, incident in opened}
    for phone in phones.all():
        tally.pages += sum(count for incident, count in phone.pages.items() if incident in ours)
        tally.pages_duplicated += sum(count - 1 for incident, count in phone.pages.items() if incident in ours)
    # Never opened: never paged either, on any phone.
    tally.unpaged = len(unpaged) + (tally.keys - len(per_key)) * len(phones.all())
    healthy = phones.healthy
    waits = [
        (tally.first_sent[key], healthy.first[incident] - tally.first_sent[key])
        for key, incident in opened
        if incident in healthy.first
    ]
    tally.page_wait_s = max((wait for _, wait in waits), default=0.0)
    tally.wait_before_s = max((wait for sent, wait in waits if sent < fault_at), default=0.0)
    tally.wait_during_s = max((wait for sent, wait in waits if fault_at <= sent < fault_end), default=0.0)
    if phones.failing is not None:
        tally.receiver_refused = phones.failing.refused
        last = max((at for _, at in phones.failing.arrivals), default=fault_end)
        tally.receiver_caught_up_s = max(0.0, last - fault_end)


def run_fault(
    platform: Platform, fault: str, *, rate: float, seconds: float, services: int, give_up: float, settle: float
) -> Tally:
    """A steady sender for `seconds` plus the fault's length, the fault a third of
    `seconds` in; then count."""
    run = uuid.uuid4().hex[:8]
    tally = Tally(fault=fault, services=services)
    webhook_fault = fault.startswith("webhook-")
    two_replicas = fault.startswith("kill-one:")
    with contextlib.ExitStack() as stack:
        phones = Phones(stack.enter_context(Webhook()), stack.enter_context(Webhook()) if webhook_fault else None)
        if two_replicas:
            stack.enter_context(platform.second_ingestion())
        keys = integration_keys(platform, [phone.url for phone in phones.all()], services, run)
        urls = [platform.url("alert_ingestion"), *([platform.url(REPLICA)] if two_replicas else [])]
        total = round(rate * (seconds + outage(fault)))
        start = time.monotonic()
        sender = Sender(urls, keys, tally, run, give_up_at=start + total / rate + give_up)
        fault_at = start + seconds / 3
        with ThreadPoolExecutor(64) as pool:
            injected = None
            for number in range(total):
                time.sleep(max(0.0, start + number / rate - time.monotonic()))
                if injected is None and time.monotonic() >= fault_at:
                    injected = pool.submit(inject, platform, fault, phones.failing)
                pool.submit(sender.send, number)
                tally.sent += 1
            if injected is not None:
                injected.result()
        fault_end = time.monotonic() if injected is None else fault_at + outage(fault)
        sender.client.close()
        tally.recovery_s = max(0.0, (sender.last_failure or fault_at) - fault_at)
        # A long outage leaves a backlog whose retries back off: wait for it as long again.
        count_outcome(platform, phones, tally, run, settle + outage(fault), fault_at, fault_end)
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
    ("out_of_order", "order", 6),
    ("wait_before_s", "wait before s", 14),
    ("wait_during_s", "wait during s", 14),
    ("receiver_refused", "rcv refused", 12),
    ("receiver_caught_up_s", "rcv caught up s", 16),
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
    parser.add_argument(
        "--fault", action="append", type=parse_fault, help="this fault (repeatable; default: the short ones)"
    )
    parser.add_argument("--long", action="store_true", help="the long faults (10-minute outages ...) instead")
    parser.add_argument("--rate", type=float, default=50.0, help="alerts a second")
    parser.add_argument("--seconds", type=float, default=60.0, help="seconds of sending per fault")
    parser.add_argument("--services", type=int, default=50, help="services the alerts are spread over")
    parser.add_argument("--keep", type=Path, help="keep the data and logs in this directory")
    parser.add_argument("--json", type=Path, help="also write the table to this file (bench/scorecard.py)")
    args = parser.parse_args()
    _stop_on_sigterm()
    faults = args.fault or list(LONG_FAULTS if args.long else FAULTS)
    print(f"{len(faults)} faults, {args.rate:g} alerts/s for {args.seconds:g} s across {args.services} services")
    try:
        tallies = run_faults(faults, rate=args.rate, seconds=args.seconds, services=args.services, keep=args.keep)
    except KeyboardInterrupt:
        print("interrupted: services and PostgreSQL stopped", file=sys.stderr)
        return 130
    print(table(tallies))
    if args.json:
        args.json.write_text(json.dumps({"table": table(tallies), "clean": all(tally.clean for tally in tallies)}))
    print(f"(load average {' '.join(Path('/proc/loadavg').read_text().split()[:3])}; {os.cpu_count()} CPUs)")
    return 0 if all(tally.clean for tally in tallies) else 1


if __name__ == "__main__":
    sys.exit(main())
