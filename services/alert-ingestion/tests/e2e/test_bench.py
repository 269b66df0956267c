"""The benchmark runs end to end (briefly): wrk against a started service, and
pgbench on the same writes. Skips without wrk/pgbench locally; fails under CI=true."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from platform_testing import require_binary

pytestmark = pytest.mark.e2e

BENCH = Path(__file__).resolve().parents[4] / "bench" / "ingest.py"


def test_bench_script_reports_alerts_per_second(database_server):
    require_binary("wrk", "apt-get install wrk")
    require_binary("pgbench", "apt-get install postgresql")
    env = {**os.environ, "BENCH_DATABASE_URL": database_server}
    run = subprocess.run(
        [
            sys.executable,
            str(BENCH),
            "--seconds",
            "2",
            "--connections",
            "8",
            "--workers",
            "1",
            "--pgbench-clients",
            "4",
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    assert "alerts/s" in run.stdout
    assert "tps" in run.stdout


def test_hot_routes_bench_runs_both_routes_in_process():
    # It stubs the app's per-process objects; a new one the handlers read must be stubbed too.
    run = subprocess.run(
        [sys.executable, str(BENCH.with_name("hot_routes.py")), "--requests", "20"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    assert "POST /api/v1/alerts (served):" in run.stdout
    assert "POST /v2/enqueue (served):" in run.stdout
