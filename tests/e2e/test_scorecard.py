"""`make bench`'s scorecard (bench/scorecard.py) on its smallest step: it runs the
bench as a process, reads the figures it wrote and puts one table into a README
between its markers, replacing the previous card and nothing else."""

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

pytestmark = pytest.mark.e2e

BENCH = Path(__file__).resolve().parents[2] / "bench"


def _scorecard():
    spec = importlib.util.spec_from_file_location("scorecard", BENCH / "scorecard.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_card_runs_a_bench_and_replaces_its_table_only(tmp_path, clean_database):
    readme = tmp_path / "README.md"
    readme.write_text("# Benchmarks\n\nWhat they are.\n\n## Alert to page\n\nHow it works.\n")
    # The benches make throw-away databases of their own on the server.
    server = make_url(clean_database).set(database="postgres").render_as_string(hide_password=False)
    command = [sys.executable, str(BENCH / "scorecard.py"), "--quick", "--only", "page", "--readme", str(readme)]
    env = {**os.environ, "BENCH_DATABASE_URL": server, "TEST_DATABASE_URL": server}

    first = subprocess.run(command, env=env, capture_output=True, text=True, timeout=300)
    assert first.returncode == 0, first.stdout[-3000:] + first.stderr[-3000:]
    card = readme.read_text()
    assert card.startswith("# Benchmarks\n\n## Scorecard\n\n<!-- scorecard")
    assert card.endswith("## Alert to page\n\nHow it works.\n")
    assert "| alert to page, one at a time, pages | 30 of 30" in card
    assert "every page once: met" in card

    _scorecard().write("the next card", readme)
    again = readme.read_text()
    assert "| alert to page" not in again and "the next card" in again
    assert again.count("## Scorecard") == 1 and again.count("<!-- /scorecard -->") == 1
    assert again.startswith("# Benchmarks\n\n## Scorecard\n\n<!-- scorecard")
    assert "<!-- /scorecard -->\n\nWhat they are.\n\n## Alert to page" in again
    assert again.endswith("## Alert to page\n\nHow it works.\n")
