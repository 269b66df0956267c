"""The fault suite's short form (bench/faults.py, all of it: `make faults`): a
steady sender across ten services, a new incident every 5 s in each, while
incident-management is SIGKILLed and started again 5 s later. Every alert is
taken and stored, every dedup key opens one incident and every incident is
paged exactly once. The figures are printed; times are not asserted (they
depend on the machine's load)."""

import importlib.util
from pathlib import Path

import pytest

pytestmark = pytest.mark.e2e

BENCH = Path(__file__).resolve().parents[2] / "bench" / "faults.py"


def _faults():
    spec = importlib.util.spec_from_file_location("faults", BENCH)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_a_crash_of_incident_management_under_load_loses_and_repeats_nothing(capsys):
    faults = _faults()
    (tally,) = faults.run_faults(["kill:incident_management"], rate=10, seconds=30, services=10)
    with capsys.disabled():  # the figures show in every run's output, passing or not
        print("\n" + faults.table([tally]))  # noqa: T201 - the figures are the point
    assert tally.sent == 300
    assert tally.given_up == 0
    assert tally.ok == tally.sent  # every alert taken in the end
    assert tally.lost == 0
    assert tally.stored == tally.sent
    assert tally.keys == 60  # 30 alerts of each service, 5 to a dedup key
    assert (tally.incidents, tally.incidents_duplicated) == (60, 0)
    assert (tally.pages, tally.pages_duplicated, tally.unpaged) == (60, 0, 0)
