"""The change watcher's reading of the timeline's tail (workers/changes.py)."""

from incident_management.workers.changes import LOOKBACK, Tail


def test_each_entry_is_reported_once_even_when_committed_after_a_newer_one():
    tail = Tail(high=10)
    # Entry 12 committed first; 11 (taken earlier) commits after it was read.
    assert tail.advance([(12, "b")]) == {"b"}
    assert tail.after < 11
    assert tail.advance([(11, "a"), (12, "b")]) == {"a"}
    assert tail.advance([(11, "a"), (12, "b")]) == set()
    assert tail.high == 12


def test_only_the_lookback_is_read_again_and_remembered():
    tail = Tail(high=0)
    rows = [(entry_id, f"incident-{entry_id % 3}") for entry_id in range(1, 3 * LOOKBACK)]
    assert tail.advance(rows) == {"incident-0", "incident-1", "incident-2"}
    assert tail.after == 3 * LOOKBACK - 1 - LOOKBACK
    assert min(tail.seen) > tail.after
