"""bench/ui_incident_list.py runs end to end (briefly): it fills a throw-away
database, runs the platform behind nginx, logs in through the browser and
reports each case's time to the first incident row, with the API's share."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.e2e
BENCH = Path(__file__).resolve().parents[2] / "bench" / "ui_incident_list.py"


def test_the_browser_incident_list_bench_reports_each_case(database_server):
    run = subprocess.run(
        [sys.executable, str(BENCH), "--incidents", "2000", "--repeat", "1"],
        env={**os.environ, "BENCH_DATABASE_URL": database_server},
        capture_output=True,
        text=True,
        timeout=400,
        check=False,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    assert "with 2,000 incidents" in run.stdout
    assert "of 2000" in run.stdout  # the UI's pager counted what was stored
    for label in ("/health (reference)", "/incidents (not resolved)", "/incidents?status=any", "critical, any status"):
        assert label in run.stdout
    assert "/auth/me " in run.stdout  # the browser's own network timing was read
    print(run.stdout)  # noqa: T201 - the figures are the point
