"""The incident list at scale in a real browser: how long the web UI takes, from
navigating to /incidents until the first incident row is on screen, with N
incidents stored (default 100,000), next to loading nginx's /health in the same
tab (the navigation overhead alone) measured in the same run. The issue's
budget: the first page renders in under 1 s with 100,000 incidents.

    .venv/bin/python bench/ui_incident_list.py [--incidents 100000] [--repeat 10]

Needs a PostgreSQL server (BENCH_DATABASE_URL, default
postgresql://postgres@127.0.0.1:5432/postgres), nginx, npm and Debian's
Chromium (/usr/bin/chromium, driven by Playwright). It creates a throw-away
database there, migrates it and fills it as bench/incident_list.py does (its
FILL: a year, 20 services, every status), then runs the whole platform as the
UI tests do (scripts/dev.py on free ports: the four services, the UI built
into a folder of its own and served by nginx), logs in through the login page
as the admin dev.py made, and times each case after one warm-up round, the
cases taking turns: the default list (not resolved), every status, critical
ones of every status. It prints p50/p95 per case and the ratio to /health's
p50, and from the browser's network timing when the last API answer in before
the first row arrived and each such call's p50, so what is API and what is
rendering reads off the table (the status counts' summary is not waited for,
so it is usually not among them). The platform is stopped and the database dropped on exit.
"""

import argparse
import os
import re
import signal
import sys
import tempfile
import time
import uuid
from collections import defaultdict
from pathlib import Path
from urllib.parse import urlsplit

import psycopg

# bench/ is this script's folder, so first on sys.path: the same fill as the API-level bench.
from alert_to_page import percentile
from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import sync_playwright
from sqlalchemy.engine import make_url

from incident_list import FILL
from platform_testing import LocalRunner, migrated

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = "/usr/bin/chromium"
ROW = "tr[data-incident]"
REFERENCE = "/health (reference)"
CASES = {
    REFERENCE: "/health",
    "/incidents (not resolved)": "/incidents",
    "/incidents?status=any": "/incidents?status=any",
    "critical, any status": "/incidents?severity=critical&status=any",
}


def _raise(_signum: int, _frame: object) -> None:
    raise KeyboardInterrupt


def measure(url: str, email: str, password: str, repeat: int) -> tuple[dict[str, list[dict]], str]:
    """Each case `repeat` times after a warm-up round: per navigation its time to
    the first row (ms), when the last API answer arrived and each API call's time."""
    results: dict[str, list[dict]] = defaultdict(list)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True)
        try:
            context = browser.new_context(base_url=url, viewport={"width": 1280, "height": 800})
            context.set_default_timeout(30_000)
            page = context.new_page()
            errors: list[str] = []
            page.on("pageerror", lambda error: errors.append(str(error)))
            finished: list = []
            page.on("requestfinished", lambda request: finished.append(request))

            page.goto("/login")
            page.get_by_label("Email").fill(email)
            page.get_by_label("Password").fill(password)
            page.get_by_role("button", name="Log in").click()
            page.wait_for_url(re.compile(r"/incidents"))
            page.locator(ROW).first.wait_for(state="visible")
            page.goto("/incidents?status=any")
            page.locator(ROW).first.wait_for(state="visible")
            shown = page.locator(".pager span").inner_text()

            for round_ in range(repeat + 1):  # round 0 warms up
                for label, path in CASES.items():
                    page.goto("about:blank")
                    finished.clear()
                    began_epoch = time.time() * 1000
                    began = time.perf_counter()
                    page.goto(path)
                    if label != REFERENCE:
                        page.locator(ROW).first.wait_for(state="visible")
                    elapsed = 1000 * (time.perf_counter() - began)
                    page.goto("about:blank")  # and the events of the measured navigation are in
                    calls: dict[str, float] = {}
                    last_answer = 0.0
                    for request in finished:
                        where = urlsplit(request.url)
                        timing = request.timing
                        if not where.path.startswith("/api/") or timing["responseEnd"] < 0:
                            continue
                        calls[where.path] = max(calls.get(where.path, 0.0), timing["responseEnd"])
                        last_answer = max(last_answer, timing["startTime"] + timing["responseEnd"] - began_epoch)
                    if round_:
                        results[label].append({"ms": elapsed, "api_done": last_answer, "calls": calls})
            if errors:
                raise RuntimeError(f"the page raised: {errors}")
        finally:
            browser.close()
    return results, shown


def report(results: dict[str, list[dict]], incidents: int, shown: str, filled: float, repeat: int) -> None:
    reference = percentile([r["ms"] for r in results[REFERENCE]], 50)
    print(
        f"incident list in the browser with {incidents:,} incidents (filled in {filled:.1f} s;"
        f" the UI shows {shown!r} for status=any), {repeat} navigations each after one warm-up:"
    )
    print(f"  {'case':<28}{'p50 ms':>9}{'p95 ms':>9}{'x /health':>11}{'API done p50':>14}{'after API p50':>15}")
    for label, runs in results.items():
        times = [r["ms"] for r in runs]
        p50, p95 = percentile(times, 50), percentile(times, 95)
        line = f"  {label:<28}{p50:9.1f}{p95:9.1f}{p50 / reference:11.1f}"
        if label != REFERENCE:
            done = percentile([r["api_done"] for r in runs], 50)
            after = percentile([r["ms"] - r["api_done"] for r in runs], 50)
            line += f"{done:14.1f}{after:15.1f}"
        print(line)
    print("API calls of each case, p50 ms from request to last byte (the browser's network timing):")
    for label, runs in results.items():
        if label == REFERENCE:
            continue
        paths = sorted({p for r in runs for p in r["calls"]})
        parts = [
            f"{p.removeprefix('/api/v1')} {percentile([r['calls'][p] for r in runs if p in r['calls']], 50):.1f}"
            for p in paths
        ]
        print(f"  {label:<28}{', '.join(parts)}")
    print("(shared machine: numbers are noisy; the ratio is what to compare. 'API done' is when the last API")
    print(" answer in before the first row arrived, after navigation began; 'after API' the time from then")
    print(" to the first row.)")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--incidents", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=10, help="timed navigations per case, after one warm-up")
    args = parser.parse_args()
    if not Path(CHROMIUM).exists():
        print(f"{CHROMIUM} is not installed (apt-get install chromium)", file=sys.stderr)
        return 1
    signal.signal(signal.SIGTERM, _raise)
    server = make_url(os.environ.get("BENCH_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres"))
    name = f"bench_ui_list_{uuid.uuid4().hex[:8]}"
    admin = server.set(drivername="postgresql", database="postgres").render_as_string(hide_password=False)
    url = server.set(drivername="postgresql", database=name).render_as_string(hide_password=False)
    folder = Path(tempfile.mkdtemp(prefix="bench-ui-list-"))
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    # As tests/ui/conftest.py's ui_platform runs it, the UI built into a folder of its own.
    runner = LocalRunner(ROOT, folder, {"DEV_UI_DIST": str(folder / "dist")}, database_url=url)
    try:
        # Migrated here, so dev.py's own migration finds nothing to do and the
        # services start on the filled table.
        migrated(url)
        started = time.perf_counter()
        with psycopg.connect(url) as conn:
            conn.execute(FILL, {"n": args.incidents})
            conn.execute("ANALYZE incidents")
            stored = conn.execute("SELECT count(*) FROM incidents").fetchone()[0]
        filled = time.perf_counter() - started
        made = runner.start(timeout=300).secrets  # the UI is built first
        try:
            results, shown = measure(runner.url, made["ADMIN_EMAIL"], made["ADMIN_PASSWORD"], args.repeat)
        except (PlaywrightError, RuntimeError) as failure:
            print(f"measuring failed: {failure}\nthe platform's log: {runner.log_path}", file=sys.stderr)
            return 1
        report(results, stored, shown, filled, args.repeat)
        return 0
    except KeyboardInterrupt:
        return 130
    finally:
        runner.stop()
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


if __name__ == "__main__":
    sys.exit(main())
