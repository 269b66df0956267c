"""Rotation arithmetic of one layer: shift boundaries, turns, DST in three zones."""

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from oncall_service.domain.rotation import Layer, RotationType, layer_shifts, shift_index_at

NEW_YORK = ZoneInfo("America/New_York")
BERLIN = ZoneInfo("Europe/Berlin")
SYDNEY = ZoneInfo("Australia/Sydney")
HOUR = timedelta(hours=1)


def make_layer(rotation_type, *, tz, start_date, handoff=time(9), length=1, members=("ann", "bob", "cy"), end=None):
    return Layer("l1", 0, RotationType(rotation_type), length, handoff, start_date, tz, tuple(members), end)


def utc(*args):
    return datetime(*args, tzinfo=UTC)


def durations(shifts):
    return [(s.end - s.start) / HOUR for s in shifts]


def test_weekly_rotation_in_new_york_hands_off_monday_9am_local_across_spring_forward():
    # DST starts in New York on Sunday 2026-03-08: the week that spans it has 167 real hours.
    layer = make_layer("weekly", tz=NEW_YORK, start_date=date(2026, 3, 2))
    shifts = layer_shifts(layer, utc(2026, 3, 1), utc(2026, 4, 1))
    assert [s.user_id for s in shifts] == ["ann", "bob", "cy", "ann", "bob"]
    assert [s.start.astimezone(NEW_YORK).strftime("%a %H:%M") for s in shifts] == ["Mon 09:00"] * 5
    assert durations(shifts)[:2] == [167, 168]
    assert shifts[0].start == utc(2026, 3, 2, 14)  # 09:00 EST
    assert shifts[1].start == utc(2026, 3, 9, 13)  # 09:00 EDT
    assert shifts[-1].end == utc(2026, 4, 1)  # clipped to the window


def test_daily_rotation_in_berlin_is_23h_in_march_and_25h_in_october():
    layer = make_layer("daily", tz=BERLIN, start_date=date(2026, 3, 1), members=("ann", "bob"))
    march = layer_shifts(layer, utc(2026, 3, 27, 12), utc(2026, 3, 31, 12))
    by_start = {s.start.astimezone(BERLIN).date(): (s.end - s.start) / HOUR for s in march}
    assert by_start[date(2026, 3, 28)] == 23  # 09:00 CET -> 09:00 CEST
    assert by_start[date(2026, 3, 29)] == 24
    assert all(s.start.astimezone(BERLIN).time() == time(9) for s in march[1:])
    october = layer_shifts(layer, utc(2026, 10, 23, 12), utc(2026, 10, 27, 12))
    by_start = {s.start.astimezone(BERLIN).date(): (s.end - s.start) / HOUR for s in october}
    assert by_start[date(2026, 10, 24)] == 25


def test_daily_rotation_in_sydney_follows_southern_hemisphere_dst():
    # Sydney leaves DST on Sunday 2026-04-05 and enters it on Sunday 2026-10-04.
    layer = make_layer("daily", tz=SYDNEY, start_date=date(2026, 1, 1), handoff=time(8, 30))
    april = layer_shifts(layer, utc(2026, 4, 2), utc(2026, 4, 7))
    october = layer_shifts(layer, utc(2026, 10, 1), utc(2026, 10, 6))
    assert {s.start.astimezone(SYDNEY).date(): (s.end - s.start) / HOUR for s in april}[date(2026, 4, 4)] == 25
    assert {s.start.astimezone(SYDNEY).date(): (s.end - s.start) / HOUR for s in october}[date(2026, 10, 3)] == 23
    assert all(s.start.astimezone(SYDNEY).time() == time(8, 30) for s in april[1:] + october[1:])


def test_members_take_turns_in_order_from_the_start_date():
    layer = make_layer("daily", tz=BERLIN, start_date=date(2026, 1, 1), length=2)
    shifts = layer_shifts(layer, utc(2026, 1, 1), utc(2026, 1, 14))
    assert [s.user_id for s in shifts] == ["ann", "bob", "cy", "ann", "bob", "cy", "ann"]
    assert durations(shifts)[1:-1] == [48] * 5


def test_nothing_before_the_layer_starts_and_nothing_after_it_ends():
    layer = make_layer("daily", tz=BERLIN, start_date=date(2026, 5, 10), end=utc(2026, 5, 12, 12))
    shifts = layer_shifts(layer, utc(2026, 5, 1), utc(2026, 6, 1))
    assert shifts[0].start == utc(2026, 5, 10, 7)  # 09:00 CEST
    assert shifts[-1].end == utc(2026, 5, 12, 12)
    assert shift_index_at(layer, utc(2026, 5, 10, 6, 59)) is None


def test_handoff_inside_the_skipped_hour_happens_at_the_first_moment_after_the_gap_ends():
    # 02:30 does not exist in New York on 2026-03-08; that handoff happens at 03:30 EDT.
    layer = make_layer("daily", tz=NEW_YORK, start_date=date(2026, 3, 1), handoff=time(2, 30))
    shifts = layer_shifts(layer, utc(2026, 3, 6), utc(2026, 3, 11))
    starts = [s.start.astimezone(NEW_YORK).strftime("%m-%d %H:%M") for s in shifts[2:]]
    assert starts == ["03-07 02:30", "03-08 03:30", "03-09 02:30", "03-10 02:30"]
    assert durations(shifts)[2:5] == [24, 23, 24]


def test_handoff_in_the_repeated_hour_happens_once_at_its_first_occurrence():
    layer = make_layer("daily", tz=NEW_YORK, start_date=date(2026, 10, 1), handoff=time(1, 30))
    shifts = layer_shifts(layer, utc(2026, 10, 31), utc(2026, 11, 3))
    fall_back = next(s for s in shifts if s.start.astimezone(NEW_YORK).date() == date(2026, 11, 1))
    assert fall_back.start == utc(2026, 11, 1, 5, 30)  # 01:30 EDT, the first of the two
    assert (fall_back.end - fall_back.start) / HOUR == 25


def test_hourly_rotation_counts_real_hours_across_dst():
    layer = make_layer("hourly", tz=NEW_YORK, start_date=date(2026, 3, 7), handoff=time(0), length=12)
    shifts = layer_shifts(layer, utc(2026, 3, 7, 5), utc(2026, 3, 10, 5))
    assert set(durations(shifts)) == {12}
    assert [s.user_id for s in shifts[:4]] == ["ann", "bob", "cy", "ann"]


@pytest.mark.parametrize("rotation_type", ["hourly", "daily", "weekly"])
def test_index_lookup_agrees_with_walking_the_shifts(rotation_type):
    layer = make_layer(rotation_type, tz=BERLIN, start_date=date(2026, 3, 20), length=3)
    shifts = layer_shifts(layer, utc(2026, 3, 1), utc(2026, 11, 1))
    for number, shift in enumerate(shifts):
        assert shift_index_at(layer, shift.start) == number
        assert shift_index_at(layer, shift.end - timedelta(microseconds=1)) == number
