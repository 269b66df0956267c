"""bench/incident_list.py runs end to end (briefly): it fills a throw-away
database, starts incident-management and reports every query of the list page."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.e2e
BENCH = Path(__file__).resolve().parents[2] / "bench" / "incident_list.py"


def test_the_incident_list_bench_reports_each_query(database_server):
    run = subprocess.run(
        [sys.executable, str(BENCH), "--incidents", "3000", "--requests", "3"],
        env={**os.environ, "BENCH_DATABASE_URL": database_server},
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    for label in (
        "/health (reference)",
        "newest 50 + total",
        "open ones",
        "one service",
        "page 2",
        "status counts (summary)",
    ):
        assert label in run.stdout
