"""The fault suite's short forms (bench/faults.py, all of it: `make faults`): a
steady sender, a new incident every 5 s in each service, while
incident-management is SIGKILLed and started again 5 s later, and while one of
two people's webhooks answers 500 for 20 s. Every alert is taken and stored,
every dedup key opens one incident and every incident is paged exactly once
(to each person, in order). The figures are printed; times are not asserted
(they depend on the machine's load)."""

import importlib.util
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.e2e

BENCH = Path(__file__).resolve().parents[2] / "bench" / "faults.py"


def _faults():
    sys.path.insert(0, str(BENCH.parent))  # as when it runs as a script: it imports its sibling alert_to_page
    spec = importlib.util.spec_from_file_location("faults", BENCH)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_a_crash_of_incident_management_under_load_loses_and_repeats_nothing(capsys):
    faults = _faults()
    (tally,) = faults.run_faults(["kill:incident_management"], rate=10, seconds=30, services=10)
    with capsys.disabled():  # the figures show in every run's output, passing or not
        print("\n" + faults.table([tally]))  # noqa: T201 - the figures are the point
    assert tally.sent == 350  # 10 a second for 30 s and the 5 s it is down
    assert tally.given_up == 0
    assert tally.ok == tally.sent  # every alert taken in the end
    assert tally.lost == 0
    assert tally.stored == tally.sent
    assert tally.keys == 70  # 35 alerts of each service, 5 to a dedup key
    assert (tally.incidents, tally.incidents_duplicated) == (70, 0)
    assert (tally.pages, tally.pages_duplicated, tally.unpaged) == (70, 0, 0)


def test_a_receiver_failing_for_20_s_gets_each_page_once_in_order_after_it_recovers(capsys):
    """Two people on every incident; one's webhook answers 500 for 20 s while the
    other's keeps answering. Every page reaches both exactly once, each person's
    in the order they were made (before the fix, pages made after the failure
    overtook the ones waiting for their retry)."""
    faults = _faults()
    (tally,) = faults.run_faults(["webhook-500:20"], rate=5, seconds=24, services=5)
    with capsys.disabled():
        print("\n" + faults.table([tally]))  # noqa: T201 - the figures are the point
    assert tally.sent == 220  # 5 a second for 24 s and the 20 s of the fault
    assert (tally.ok, tally.lost, tally.given_up) == (220, 0, 0)
    assert tally.receiver_refused > 0  # the fault happened: pages were refused and retried
    assert (tally.incidents, tally.incidents_duplicated) == (tally.keys, 0)
    assert (tally.pages, tally.pages_duplicated, tally.unpaged) == (2 * tally.incidents, 0, 0)
    assert tally.out_of_order == 0
