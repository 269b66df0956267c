"""bench/alert_to_page.py on a small scale: every alert, each opening its own
incident, pages the on-call engineer's webhook. The timings are printed, never
asserted (they depend on the machine's load)."""

import importlib.util
from pathlib import Path

import pytest

pytestmark = pytest.mark.e2e

BENCH = Path(__file__).resolve().parents[2] / "bench" / "alert_to_page.py"


def _bench():
    spec = importlib.util.spec_from_file_location("alert_to_page", BENCH)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_every_alert_reaches_the_on_call_webhook(clean_database, capsys):
    bench = _bench()
    result = bench.measure(clean_database, alerts=20, warmup=1)
    with capsys.disabled():  # the figures show in every run's output, passing or not
        print("\n" + bench.report(result))  # noqa: T201 - the figures are the point
    assert result.unpaged == []
    assert result.paged == 20
    assert result.incidents == 20  # each alert opened its own incident
