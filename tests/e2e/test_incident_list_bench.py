"""bench/incident_list.py runs end to end (briefly): it fills a throw-away
database (incidents and their alerts), starts incident-management and reports every query
of the list page and the metrics page's series."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.e2e
BENCH = Path(__file__).resolve().parents[2] / "bench" / "incident_list.py"


def test_the_incident_list_bench_reports_each_query(database_server):
    run = subprocess.run(
        [sys.executable, str(BENCH), "--incidents", "3000", "--alerts-per-incident", "2", "--requests", "3"],
        env={**os.environ, "BENCH_DATABASE_URL": database_server},
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    assert "3,000 incidents and 6,000 alerts" in run.stdout
    for label in (
        "/health (reference)",
        "newest 50 + total",
        "open ones",
        "one service",
        "page 2",
        "status counts (summary)",
        "daily, 14 days",
        "daily, 90 days",
    ):
        assert label in run.stdout
