"""Final schedules from layers and overrides, and escalation chains, on small examples."""

from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

from oncall_service.domain.escalation import SCHEDULE, USER, Paged, Target, level_users, paged, primary
from oncall_service.domain.rotation import Layer, RotationType
from oncall_service.domain.schedule import OVERRIDE, Override, final_shifts, on_call_at, overlapping

UTC_ZONE = ZoneInfo("UTC")


def utc(*args):
    return datetime(*args, tzinfo=UTC)


def daily(layer_id, priority, members, start=date(2026, 1, 1), end=None):
    return Layer(layer_id, priority, RotationType.DAILY, 1, time(0), start, UTC_ZONE, tuple(members), end)


def summary(shifts):
    return [(s.user_id, s.start.day, s.start.hour, s.end.day, s.end.hour) for s in shifts]


def test_higher_priority_layer_wins_only_where_it_covers():
    base = daily("base", 0, ["ann"])
    cover = daily("cover", 5, ["bob"], start=date(2026, 1, 3), end=utc(2026, 1, 4, 12))
    shifts = final_shifts([cover, base], [], utc(2026, 1, 1), utc(2026, 1, 6))
    assert summary(shifts) == [("ann", 1, 0, 3, 0), ("bob", 3, 0, 4, 12), ("ann", 4, 12, 6, 0)]


def test_override_cuts_in_exactly_and_neighbouring_shifts_of_the_same_source_merge():
    shifts = final_shifts(
        [daily("base", 0, ["ann"])],
        [Override("o1", "cy", utc(2026, 1, 2, 6), utc(2026, 1, 2, 18))],
        utc(2026, 1, 1),
        utc(2026, 1, 4),
    )
    assert summary(shifts) == [("ann", 1, 0, 2, 6), ("cy", 2, 6, 2, 18), ("ann", 2, 18, 4, 0)]
    assert shifts[1].source_type == OVERRIDE and shifts[1].source_id == "o1"


def test_time_nobody_covers_is_absent_and_an_override_can_fill_it():
    late = daily("late", 0, ["ann"], start=date(2026, 1, 3))
    gap = final_shifts([late], [], utc(2026, 1, 1), utc(2026, 1, 4))
    assert summary(gap) == [("ann", 3, 0, 4, 0)]
    filled = final_shifts(
        [late], [Override("o", "bob", utc(2026, 1, 2), utc(2026, 1, 3))], utc(2026, 1, 1), utc(2026, 1, 4)
    )
    assert summary(filled) == [("bob", 2, 0, 3, 0), ("ann", 3, 0, 4, 0)]
    assert on_call_at([late], [], utc(2026, 1, 1, 12)) is None


def test_overrides_touching_at_an_end_do_not_overlap():
    first = Override("a", "ann", utc(2026, 1, 1), utc(2026, 1, 2))
    assert overlapping([first], utc(2026, 1, 2), utc(2026, 1, 3)) is None
    assert overlapping([first], utc(2026, 1, 1, 23), utc(2026, 1, 3)) is first


def test_a_level_pages_its_users_in_order_once_each_and_schedules_resolve_to_who_is_on_call():
    targets = [Target(USER, "mgr"), Target(SCHEDULE, "s1"), Target(USER, "ann"), Target(SCHEDULE, "s2")]
    assert level_users(targets, {"s1": "ann", "s2": None}) == ["mgr", "ann"]


def test_primary_is_the_first_user_of_the_first_level_that_pages_anyone():
    assert primary([["ann", "bob"], ["mgr"]]) == "ann"
    assert primary([[], ["mgr"]]) == "mgr"
    assert primary([[], []]) is None


def test_paged_gives_each_levels_users_and_the_primary_or_without_a_policy_the_first_team_schedules():
    levels = [[Target(SCHEDULE, "later")], [Target(USER, "mgr"), Target(SCHEDULE, "s1")]]
    on_call = {"later": None, "s1": "ann", "s2": "bob"}
    assert paged(levels, [], on_call) == Paged([[], ["mgr", "ann"]], "mgr")
    assert paged(levels, ["s2"], on_call).primary == "mgr", "a policy wins over the team's schedules"
    assert paged(None, ["later", "s2", "s1"], on_call) == Paged([], "bob")
    assert paged(None, [], on_call) == Paged([], None)
