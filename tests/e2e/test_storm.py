"""A storm of new incidents through the four services as real processes: 300
alerts sent at 100 a second, each opening its own incident, page the on-call
engineer's webhook exactly once each. bench/alert_to_page.py's fixed-rate mode
on a small scale; the timings are printed, never asserted (they depend on the
machine's load), the counts are."""

import importlib.util
from pathlib import Path

import psycopg
import pytest

pytestmark = pytest.mark.e2e

BENCH = Path(__file__).resolve().parents[2] / "bench" / "alert_to_page.py"
BURST = 300


def _bench():
    spec = importlib.util.spec_from_file_location("alert_to_page", BENCH)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_a_burst_of_new_incidents_is_paged_exactly_once(clean_database, capsys):
    bench = _bench()
    result = bench.measure(clean_database, alerts=BURST, rate=100, seconds=BURST / 100, timeout=300)
    with capsys.disabled():  # the figures show in every run's output, passing or not
        print("\n" + bench.report(result))  # noqa: T201 - the figures are the point
    assert result.refused == 0
    assert result.incidents == BURST  # each alert opened its own incident
    assert result.unpaged == []
    assert result.paged == BURST
    assert result.duplicate_pages == 0
    # Exactly once as the platform recorded it: one page and one notification per
    # incident, each delivered at its first attempt (a lost outcome would have been
    # sent again once its lease ran out) and its result reported back.
    with psycopg.connect(clean_database) as conn:
        pages = conn.execute(
            "SELECT count(*), count(DISTINCT incident_id), count(*) FILTER (WHERE status = 'sent') FROM incident_pages"
        ).fetchone()
        notifications = conn.execute(
            "SELECT count(*), count(DISTINCT incident_id),"
            " count(*) FILTER (WHERE status = 'delivered' AND attempts = 1) FROM notifications"
        ).fetchone()
    assert pages == (BURST, BURST, BURST)
    assert notifications == (BURST, BURST, BURST)
