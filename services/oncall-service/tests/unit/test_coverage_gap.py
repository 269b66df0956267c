"""first_gap: the first moment of a range nobody is on call."""

from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

from oncall_service.domain.rotation import Layer, RotationType
from oncall_service.domain.schedule import Override, first_gap


def utc(*args):
    return datetime(*args, tzinfo=UTC)


def daily(layer_id, members, start=date(2026, 1, 1), end=None, handoff=time(0), priority=0):
    return Layer(layer_id, priority, RotationType.DAILY, 1, handoff, start, ZoneInfo("UTC"), tuple(members), end)


def test_a_layer_covering_the_whole_range_has_no_gap():
    assert first_gap([daily("base", ["ann", "bob"])], [], utc(2026, 1, 5), utc(2026, 1, 6)) is None


def test_no_layers_is_a_gap_from_the_start():
    assert first_gap([], [], utc(2026, 1, 5), utc(2026, 1, 6)) == utc(2026, 1, 5)


def test_a_layer_ending_inside_the_range_leaves_a_gap_at_its_end():
    layer = daily("base", ["ann"], end=utc(2026, 1, 5, 18))
    assert first_gap([layer], [], utc(2026, 1, 5), utc(2026, 1, 6)) == utc(2026, 1, 5, 18)


def test_a_layer_starting_late_leaves_a_gap_at_the_start():
    layer = daily("base", ["ann"], start=date(2026, 1, 6))
    assert first_gap([layer], [], utc(2026, 1, 5, 12), utc(2026, 1, 6, 12)) == utc(2026, 1, 5, 12)


def test_an_override_fills_a_gap_between_two_layers():
    early = daily("early", ["ann"], end=utc(2026, 1, 5, 10))
    late = daily("late", ["bob"], start=date(2026, 1, 5), handoff=time(12), priority=1)
    assert first_gap([early, late], [], utc(2026, 1, 5), utc(2026, 1, 6)) == utc(2026, 1, 5, 10)
    cover = Override("o1", "cy", utc(2026, 1, 5, 10), utc(2026, 1, 5, 12))
    assert first_gap([early, late], [cover], utc(2026, 1, 5), utc(2026, 1, 6)) is None
