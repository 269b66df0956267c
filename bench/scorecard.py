"""The scorecard: every benchmark in one go and one table of what they measured,
written into bench/README.md ("## Scorecard") with the date, the commit and the machine.

    make bench                                # the full card (about an hour on 2 cores)
    make bench BENCH_ARGS=--quick             # smaller sizes and shorter runs (about 15 minutes)
    .venv/bin/python bench/scorecard.py --only ingest,page --no-write

Each benchmark runs as its own process (`bench/<name>.py ... --json FILE`), so one
that fails leaves the others' rows; its row then says so and the exit status is 1.
Latencies stand next to a reference measured in the same run (pgbench doing the
ingest's writes, `/health` on the process answering the reads), because these
machines are shared: compare ratios between runs, not milliseconds. The benches
use BENCH_DATABASE_URL's server when it is set, else an embedded PostgreSQL the
card starts (and removes) for them; bench/faults.py always runs on its own.
"""

import argparse
import json
import math
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from platform_testing import LocalPostgres

BENCH = Path(__file__).resolve().parent
README = BENCH / "README.md"
BEGIN = "<!-- scorecard: written by bench/scorecard.py (make bench); edit the script, not this table -->"
END = "<!-- /scorecard -->"
HEALTH = "/health (reference)"

Row = tuple[str, str, str, str, str]  # what, measured, reference, ratio, bound


@dataclass
class Step:
    name: str
    script: str
    full: list[str]
    quick: list[str]
    rows: Callable[[dict], list[Row]]


def ms(value: float) -> str:
    return "n/a" if value is None or math.isnan(value) else f"{value:,.0f} ms" if value >= 100 else f"{value:.1f} ms"


def bound(value: float, limit: float, unit: str = "ms") -> str:
    """The issue's bound and whether this run met it."""
    met = value is not None and not math.isnan(value) and value < limit
    return f"< {limit:g} {unit}: {'met' if met else 'NOT met'}"


def ingest_rows(figures: dict) -> list[Row]:
    rate, tps = figures["alerts_per_s"], figures["pgbench_tps"]
    return [
        (
            "ingest, alerts/s (64 senders)",
            f"{rate:,.0f}/s",
            f"pgbench, same writes: {tps:,.0f} tps",
            f"{rate / tps:.2f}",
            "",
        ),
        (
            "ingest, p50 / p99 latency",
            f"{ms(figures['p50_ms'])} / {ms(figures['p99_ms'])}",
            f"pgbench average: {ms(figures['pgbench_avg_ms'])}",
            f"{figures['p99_ms'] / figures['pgbench_avg_ms']:.1f} (p99)",
            "",
        ),
        ("ingest, alert-ingestion CPU per alert", ms(figures["service_cpu_ms_per_alert"]), "", "", ""),
    ]


def page_rows(label: str, limit: float | None) -> Callable[[dict], list[Row]]:
    def rows(figures: dict) -> list[Row]:
        page = figures["page_ms"]
        cpu = figures["cpu_ms_per_incident"]
        out = [
            (
                f"alert to page, {label}, p50 / p99",
                f"{ms(page['p50'])} / {ms(page['p99'])}",
                f"202 p50: {ms(figures['accept_ms']['p50'])}",
                "",
                bound(page["p99"], limit) if limit else "",
            ),
            (
                f"alert to page, {label}, pages",
                f"{figures['paged']} of {figures['alerts']} ({figures['paged_within_1s']} within 1 s),"
                f" {figures['duplicate_pages']} duplicated",
                "",
                "",
                "every page once: "
                + ("met" if figures["paged"] == figures["alerts"] and not figures["duplicate_pages"] else "NOT met"),
            ),
        ]
        if cpu:
            out.append(
                (
                    f"alert to page, {label}, CPU per incident",
                    f"{ms(sum(cpu.values()))} (" + ", ".join(f"{n} {ms(v)}" for n, v in cpu.items()) + ")",
                    "",
                    "",
                    "",
                )
            )
        out.append(
            (
                f"peak RSS per service, after {label}",
                ", ".join(f"{n} {mib:.0f} MiB" for n, mib in figures["peak_rss_mb"].items()),
                "",
                "",
                "",
            )
        )
        return out

    return rows


def read_rows(prefix: str) -> Callable[[dict], list[Row]]:
    """A read bench's queries, each next to /health on the same process."""

    def rows(figures: dict) -> list[Row]:
        health = figures[HEALTH]["p50"]
        return [
            (
                f"{prefix}: {label}, p50 / p99",
                f"{ms(times['p50'])} / {ms(times['p99'])}",
                f"/health p50: {ms(health)}",
                f"{times['p99'] / health:.0f}x (p99)",
                bound(times["p99"], 100) if not label.startswith("old:") else "",
            )
            for label, times in figures.items()
            if label != HEALTH
        ]

    return rows


STEPS = (
    Step("ingest", "ingest.py", ["--seconds", "10"], ["--seconds", "5"], ingest_rows),
    Step("page", "alert_to_page.py", ["--alerts", "100"], ["--alerts", "30"], page_rows("one at a time", None)),
    Step(
        "storm",
        "alert_to_page.py",
        ["--rate", "50", "--seconds", "60", "--timeout", "120"],
        ["--rate", "50", "--seconds", "10", "--timeout", "60"],
        page_rows("50 new incidents/s", 1000),
    ),
    Step(
        "search",
        "search.py",
        ["--incidents", "1000000"],
        ["--incidents", "100000", "--requests", "50"],
        read_rows("search"),
    ),
    Step("oncall", "oncall_page.py", ["--services", "200"], ["--services", "50"], read_rows("on-call page")),
    Step(
        "faults",
        "faults.py",
        ["--rate", "20", "--seconds", "30"],
        ["--fault", "kill:incident_management", "--rate", "10", "--seconds", "30"],
        lambda figures: [],  # its own table, below the card's
    ),
)


def machine() -> str:
    model = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if "model name" in line
        ),
        platform.machine(),
    )
    memory = int(Path("/proc/meminfo").read_text().split()[1]) / 1024 / 1024
    return f"{os.cpu_count()} CPUs ({model}), {memory:.1f} GiB, {platform.system()} {platform.release()}"


def load() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def run_step(step: Step, sizes: str, work: Path, env: dict[str, str]) -> tuple[list[Row], dict | None]:
    """Run one bench; its rows, or one row saying it failed (and its output's tail on stderr)."""
    out = work / f"{step.name}.json"
    args = step.full if sizes == "full" else step.quick
    command = [sys.executable, str(BENCH / step.script), *args, "--json", str(out)]
    print(f"== {step.name}: {' '.join(command[1:])}", flush=True)
    started = time.monotonic()
    run = subprocess.run(command, env=env, capture_output=True, text=True)
    print(run.stdout, flush=True)
    took = time.monotonic() - started
    if run.returncode != 0 and not out.exists():
        print(run.stderr[-4000:], file=sys.stderr)
        return [(step.name, f"FAILED (exit {run.returncode} after {took:.0f} s)", "", "", "")], None
    figures = json.loads(out.read_text())
    rows = step.rows(figures)
    if run.returncode != 0:
        rows.append((step.name, f"exit {run.returncode}: see its rows", "", "", "NOT met"))
    return rows, figures


def card(rows: list[Row], faults: dict | None, header: str) -> str:
    lines = [f"`make bench` wrote this: {header}", ""]
    lines += ["| what | measured | reference (same run) | ratio | bound |", "|---|---|---|---|---|"]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    if faults is not None:
        verdict = "0 lost, 0 duplicated, every incident paged" if faults["clean"] else "NOT clean: see the table"
        lines += ["", f"Faults (bench/faults.py, {verdict}):", "", faults["table"]]
    return "\n".join(lines)


def write(text: str, path: Path) -> None:
    """Put the card between its markers in the README (a section of its own the first time)."""
    readme = path.read_text()
    block = f"{BEGIN}\n{text}\n{END}"
    if BEGIN in readme:
        head, rest = readme.split(BEGIN, 1)
        readme = head + block + rest.split(END, 1)[1]
    else:  # right under the title, above the benches' own sections
        title, rest = readme.split("\n", 1)
        readme = f"{title}\n\n## Scorecard\n\n{block}\n{rest}"
    path.write_text(readme)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="smaller sizes and shorter runs")
    parser.add_argument("--only", help=f"these steps, comma-separated ({', '.join(s.name for s in STEPS)})")
    parser.add_argument("--no-write", action="store_true", help="print the card; leave the README alone")
    parser.add_argument("--readme", type=Path, default=README, help="the README the card goes into")
    args = parser.parse_args()
    chosen = [s for s in STEPS if not args.only or s.name in args.only.split(",")]
    if not chosen:
        parser.error(f"--only names none of {', '.join(s.name for s in STEPS)}")
    sizes = "quick" if args.quick else "full"
    work = Path(tempfile.mkdtemp(prefix="scorecard-"))
    started, load_before = datetime.now(UTC), load()
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, cwd=BENCH).stdout
    rows: list[Row] = []
    faults = None
    failed = False
    postgres = None
    try:
        env = dict(os.environ)
        if not env.get("BENCH_DATABASE_URL"):
            postgres = LocalPostgres(work / "pgdata", durable=False).start()
            env["BENCH_DATABASE_URL"] = postgres.url()
        env["TEST_DATABASE_URL"] = env["BENCH_DATABASE_URL"]  # alert_to_page.py reads its server here
        for step in chosen:
            step_rows, figures = run_step(step, sizes, work, env)
            rows += step_rows
            failed |= figures is None
            if step.name == "faults" and figures is not None:
                faults = figures
                failed |= not figures["clean"]
    finally:
        if postgres is not None:
            postgres.stop()
        shutil.rmtree(work, ignore_errors=True)
    header = (
        f"{started:%Y-%m-%d %H:%M} UTC, commit {commit.strip() or 'unknown'}, {sizes} sizes"
        f" ({', '.join(s.name for s in chosen)}), {round((datetime.now(UTC) - started).total_seconds() / 60)} min;"
        f" {machine()}; load average {load_before} before, {load()} after."
    )
    text = card(rows, faults, header)
    print(text)
    if not args.no_write:
        write(text, args.readme)
        print(f"written to {args.readme}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
