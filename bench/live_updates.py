"""Live updates: what 200 open incident lists cost, polling every 5 s against
server-sent events (GET /api/v1/incidents/changes), over the same minute with
the same trickle of changes (one new incident every 2 s).

    .venv/bin/python bench/live_updates.py [--watchers 200] [--seconds 60] [--every 2]

Needs a PostgreSQL server (BENCH_DATABASE_URL, default
postgresql://postgres@127.0.0.1:5432/postgres); it creates a throw-away
database there. incident-management and alert-ingestion run as real processes
and are asked directly, not through nginx. A watcher loads what the list page
loads (the list, /api/v1/incidents/stats/summary, the active maintenance
windows: alert-ingestion's):

- polling: every 5 s, the watchers spread evenly over the interval;
- stream: once at the start, then on each `changed` event after a random
  wait of up to 1 s, at most once per 5 s, as the UI does (web-ui/src/live.ts).

A watcher has seen a change when a list it loaded holds the new incident.
Prints, per mode: the services' CPU seconds (process and children, from
/proc), requests per minute, and the time from a change to the watchers seeing
it (p50/p99); for the stream also the time to the event itself.
"""

import argparse
import asyncio
import contextlib
import json
import os
import random
import secrets
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import psutil
from alert_to_page import percentile, throwaway_database  # bench/ is the script's own directory

from platform_testing import ServiceProcess, as_service, free_port, user_with_token

POLL_SECONDS = 5.0  # the UI's REFRESH_MS
MIN_GAP_SECONDS = 5.0  # the UI's MIN_GAP_MS
SPREAD_SECONDS = 1.0  # the UI's SPREAD_MS
LIST = ("/api/v1/incidents", {"status": ["open", "acknowledged", "in_progress"], "limit": 50, "offset": 0})


def cpu_seconds(process: ServiceProcess) -> float:
    assert process.process is not None
    root = psutil.Process(process.process.pid)
    total = 0.0
    for proc in [root, *root.children(recursive=True)]:
        times = proc.cpu_times()
        total += times.user + times.system
    return total


@dataclass
class Run:
    requests: int = 0
    opened: dict[str, float] = field(default_factory=dict)  # incident id -> when its change was made
    seen: list[float] = field(default_factory=list)  # seconds from a change to a watcher seeing it
    events: list[float] = field(default_factory=list)  # seconds from a change to a watcher's event


class Watcher:
    def __init__(self, run: Run, incidents: httpx.AsyncClient, ingestion: httpx.AsyncClient) -> None:
        self.run, self.incidents, self.ingestion = run, incidents, ingestion
        self.known: set[str] = set()
        self.last = 0.0

    async def load(self) -> None:
        self.last = time.monotonic()
        listed, _, _ = await asyncio.gather(
            self.incidents.get(LIST[0], params=LIST[1]),
            self.incidents.get("/api/v1/incidents/stats/summary"),
            self.ingestion.get("/api/v1/maintenance-windows", params={"active": "true", "limit": 200}),
        )
        self.run.requests += 3
        now = time.monotonic()
        for item in listed.json()["items"]:
            if item["id"] not in self.known:
                self.known.add(item["id"])
                if item["id"] in self.run.opened:
                    self.run.seen.append(now - self.run.opened[item["id"]])

    async def poll(self, offset: float, until: float) -> None:
        await asyncio.sleep(offset)
        while time.monotonic() < until:
            await self.load()
            await asyncio.sleep(POLL_SECONDS - (time.monotonic() - self.last) % POLL_SECONDS)

    async def stream(self, until: float) -> None:
        pending: asyncio.Task[None] | None = None

        async def reload_later() -> None:
            gap = max(0.0, self.last + MIN_GAP_SECONDS - time.monotonic())
            await asyncio.sleep(gap + random.uniform(0, SPREAD_SECONDS))
            with contextlib.suppress(httpx.HTTPError):  # the services stopping at the end
                await self.load()

        await self.load()
        self.run.requests += 1  # the stream's own request
        async with self.incidents.stream("GET", "/api/v1/incidents/changes") as response:
            assert response.status_code == 200, response.status_code
            async for line in response.aiter_lines():
                if time.monotonic() >= until:
                    break
                if not line.startswith("data: "):
                    continue
                now = time.monotonic()
                for incident_id in json.loads(line.removeprefix("data: "))["incidents"] or []:
                    if incident_id in self.run.opened:
                        self.run.events.append(now - self.run.opened[incident_id])
                if pending is None or pending.done():
                    pending = asyncio.create_task(reload_later())
        if pending is not None:
            pending.cancel()


async def changes(run: Run, client: httpx.AsyncClient, every: float, until: float) -> None:
    """One new incident every `every` seconds, as another responder would open it."""
    while time.monotonic() < until - every:
        begun = time.monotonic()
        created = await client.post("/api/v1/incidents", json={"title": "Bench", "service": "bench", "severity": "low"})
        created.raise_for_status()
        run.opened[created.json()["id"]] = begun
        await asyncio.sleep(max(0.0, every - (time.monotonic() - begun)))


async def measure(mode: str, args: argparse.Namespace, urls: dict[str, str], viewer: dict[str, str], token: str):
    run = Run()
    limits = httpx.Limits(max_connections=args.watchers * 4, max_keepalive_connections=args.watchers * 4)
    timeout = httpx.Timeout(30)
    async with (
        httpx.AsyncClient(base_url=urls["incidents"], headers=viewer, limits=limits, timeout=timeout) as incidents,
        httpx.AsyncClient(base_url=urls["ingestion"], headers=viewer, limits=limits, timeout=timeout) as ingestion,
        httpx.AsyncClient(
            base_url=urls["incidents"], headers={"Authorization": f"Bearer {token}"}, timeout=timeout
        ) as platform,
    ):
        watchers = [Watcher(run, incidents, ingestion) for _ in range(args.watchers)]
        settle = time.monotonic() + 3
        until = settle + args.seconds
        if mode == "polling":
            tasks = [w.poll(i * POLL_SECONDS / args.watchers, until) for i, w in enumerate(watchers)]
        else:
            tasks = [w.stream(until) for w in watchers]
        started = [asyncio.create_task(t) for t in tasks]
        await asyncio.sleep(settle - time.monotonic())  # the streams open and the first loads land
        before = {name: cpu_seconds(p) for name, p in urls["processes"].items()}
        requests_before = run.requests
        await changes(run, platform, args.every, until)
        await asyncio.sleep(max(0.0, until - time.monotonic()))
        after = {name: cpu_seconds(p) for name, p in urls["processes"].items()}
        requests = run.requests - requests_before
        for task in started:
            task.cancel()
        await asyncio.gather(*started, return_exceptions=True)
    return {
        "cpu_seconds": {name: round(after[name] - before[name], 2) for name in after},
        "requests_per_minute": round(requests * 60 / args.seconds),
        "seen_p50_s": round(percentile(run.seen, 50), 2),
        "seen_p99_s": round(percentile(run.seen, 99), 2),
        "event_p50_s": round(percentile(run.events, 50), 2) if run.events else None,
        "event_p99_s": round(percentile(run.events, 99), 2) if run.events else None,
        "changes": len(run.opened),
        "sightings": len(run.seen),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--watchers", type=int, default=200)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--every", type=float, default=2, help="seconds between changes")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args()
    server_url = os.environ.get("BENCH_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
    with throwaway_database(server_url) as url:
        _, viewer = user_with_token(url, "Bench Viewer", role="viewer")
        token = secrets.token_urlsafe(24)
        common = {"ENVIRONMENT": "test", "INTERNAL_TOKENS": token, "LOG_LEVEL": "WARNING"}
        nowhere = f"http://127.0.0.1:{free_port()}"
        log_dir = Path(tempfile.mkdtemp())
        incidents = ServiceProcess(
            "incident_management",
            {
                **common,
                "DATABASE_URL": as_service(url, "incident_management"),
                "ONCALL_SERVICE_URL": nowhere,
                "NOTIFICATION_SERVICE_URL": nowhere,
                "INCIDENT_WORKER_ENABLED": "false",
            },
            log_dir=log_dir,
        )
        ingestion = ServiceProcess(
            "alert_ingestion",
            {
                **common,
                "DATABASE_URL": as_service(url, "alert_ingestion"),
                "INCIDENT_SERVICE_URL": incidents.url,
                "INCIDENT_ACTIONS_WORKER_ENABLED": "false",
            },
            log_dir=log_dir,
        )
        with incidents, ingestion:
            urls = {
                "incidents": incidents.url,
                "ingestion": ingestion.url,
                "processes": {"incident-management": incidents, "alert-ingestion": ingestion},
            }
            results = {mode: asyncio.run(measure(mode, args, urls, viewer, token)) for mode in ("polling", "stream")}
        load = os.getloadavg()
        print(
            f"{args.watchers} watchers, {args.seconds:g} s, a change every {args.every:g} s"
            f" (load average {load[0]:.2f} on {os.cpu_count()} cores; straight at the services, no nginx):"
        )
        for mode, figures in results.items():
            print(f"  {mode:8} {json.dumps(figures)}")
        if args.json:
            args.json.write_text(json.dumps({"args": vars(args) | {"json": None}, "results": results}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
