"""A new layer covers from the moment it is saved, and gaps are named exactly,
across DST in Europe/Berlin and America/New_York (2026: Berlin springs forward on
29 March and falls back on 25 October; New York on 8 March and 1 November)."""

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from oncall_service.domain.rotation import Layer, RotationType, covering_start_date, layer_shifts
from oncall_service.domain.schedule import Gap, final_shifts, gaps, on_call_at

BERLIN, NEW_YORK = ZoneInfo("Europe/Berlin"), ZoneInfo("America/New_York")


def utc(*args):
    return datetime(*args, tzinfo=UTC)


def layer(tz, start_date, handoff, rotation=RotationType.DAILY, members=("ann", "bob"), end=None, priority=0, lid="l"):
    return Layer(lid, priority, rotation, 1, handoff, start_date, tz, tuple(members), end)


@pytest.mark.parametrize(
    ("tz", "now", "handoff", "expected"),
    [
        # The case: 06:21 with a 09:00 handoff: today's handoff is ahead, so yesterday's.
        (BERLIN, datetime(2026, 1, 12, 6, 21, tzinfo=BERLIN), time(9), date(2026, 1, 11)),
        (BERLIN, datetime(2026, 1, 12, 9, 0, tzinfo=BERLIN), time(9), date(2026, 1, 12)),
        # The morning Berlin springs forward (02:00 -> 03:00 CEST): 09:00 CEST is 07:00 UTC.
        (BERLIN, utc(2026, 3, 29, 6, 59), time(9), date(2026, 3, 28)),
        (BERLIN, utc(2026, 3, 29, 7, 0), time(9), date(2026, 3, 29)),
        # The morning it falls back: 09:00 CET is 08:00 UTC.
        (BERLIN, utc(2026, 10, 25, 7, 59), time(9), date(2026, 10, 24)),
        (BERLIN, utc(2026, 10, 25, 8, 0), time(9), date(2026, 10, 25)),
        # A 02:30 handoff on the day New York skips 02:00-03:00: it happens at 03:30 EDT (07:30 UTC).
        (NEW_YORK, utc(2026, 3, 8, 7, 15), time(2, 30), date(2026, 3, 7)),
        (NEW_YORK, utc(2026, 3, 8, 7, 30), time(2, 30), date(2026, 3, 8)),
        # A 01:30 handoff on the day it repeats 01:00-02:00: the first 01:30 (EDT, 05:30 UTC) counts.
        (NEW_YORK, utc(2026, 11, 1, 5, 30), time(1, 30), date(2026, 11, 1)),
        (NEW_YORK, utc(2026, 11, 1, 5, 29), time(1, 30), date(2026, 10, 31)),
    ],
)
def test_a_new_layer_starts_at_the_last_handoff_so_it_covers_now(tz, now, handoff, expected):
    start = covering_start_date(handoff, tz, now)
    assert start == expected
    for rotation in RotationType:
        made = layer(tz, start, handoff, rotation)
        shift = on_call_at([made], [], now.astimezone(UTC))
        assert shift is not None, rotation
        if rotation is not RotationType.HOURLY:  # hourly turns have moved on since the handoff
            assert shift.user_id == "ann", rotation
        # The shift running now ends at the next handoff: within a period (a week may gain DST's hour).
        [first, *_] = layer_shifts(made, now.astimezone(UTC), now.astimezone(UTC) + timedelta(days=8))
        assert first.start == now.astimezone(UTC)
        assert first.end - now.astimezone(UTC) <= timedelta(days=7, hours=1), rotation


def test_the_old_default_of_today_at_the_handoff_left_a_gap_now_and_the_new_one_does_not():
    now = datetime(2026, 1, 12, 6, 21, tzinfo=BERLIN).astimezone(UTC)
    old = layer(BERLIN, date(2026, 1, 12), time(9))
    assert on_call_at([old], [], now) is None
    new = layer(BERLIN, covering_start_date(time(9), BERLIN, now), time(9))
    assert on_call_at([new], [], now).user_id == "ann"


def test_daily_handoffs_stay_at_the_local_time_across_both_dst_changes():
    berlin = layer(BERLIN, date(2026, 3, 27), time(9))
    starts = [s.start for s in layer_shifts(berlin, utc(2026, 3, 27), utc(2026, 3, 31))]
    assert starts[1:] == [utc(2026, 3, 28, 8), utc(2026, 3, 29, 7), utc(2026, 3, 30, 7)]
    new_york = layer(NEW_YORK, date(2026, 10, 30), time(9))
    starts = [s.start for s in layer_shifts(new_york, utc(2026, 10, 30), utc(2026, 11, 3))]
    assert starts[1:] == [utc(2026, 10, 31, 13), utc(2026, 11, 1, 14), utc(2026, 11, 2, 14)]


def _gaps(layers, start, end):
    return gaps(final_shifts(layers, [], start, end), start, end)


def test_gaps_are_named_exactly_across_dst():
    # Berlin: a night layer 21:00-09:00 (a weekday layer ending at 21:00 local is modelled
    # by an end), a day layer only from 09:00 on 30 March: the night of the change is
    # uncovered from 02:00 UTC... here a weekly "days" layer ends at 19:00 UTC on the 28th.
    days = layer(BERLIN, date(2026, 3, 23), time(9), RotationType.WEEKLY, end=utc(2026, 3, 28, 19), lid="days")
    nights = layer(BERLIN, date(2026, 3, 29), time(9), members=("cy",), priority=1, lid="nights")
    found = _gaps([days, nights], utc(2026, 3, 28), utc(2026, 3, 30))
    # Uncovered from the end of "days" until 09:00 CEST on the 29th, which is 07:00 UTC (not 08:00).
    assert found == [Gap(utc(2026, 3, 28, 19), utc(2026, 3, 29, 7))]
    # New York, the night it falls back: 09:00 EST on 1 November is 14:00 UTC.
    ends = layer(NEW_YORK, date(2026, 10, 26), time(9), RotationType.WEEKLY, end=utc(2026, 11, 1, 4), lid="a")
    starts = layer(NEW_YORK, date(2026, 11, 1), time(9), members=("dee",), priority=1, lid="b")
    found = _gaps([ends, starts], utc(2026, 10, 31), utc(2026, 11, 2))
    assert found == [Gap(utc(2026, 11, 1, 4), utc(2026, 11, 1, 14))]
    assert found[0].end - found[0].start == timedelta(hours=10)  # 00:00 EDT to 09:00 EST: the repeated hour counts


def test_no_gap_no_layer_and_a_gap_at_the_end():
    always = layer(BERLIN, date(2026, 1, 1), time(9))
    assert _gaps([always], utc(2026, 3, 28), utc(2026, 3, 30)) == []
    assert _gaps([], utc(2026, 3, 28), utc(2026, 3, 30)) == [Gap(utc(2026, 3, 28), utc(2026, 3, 30))]
    ending = layer(BERLIN, date(2026, 1, 1), time(9), end=utc(2026, 3, 29, 12))
    assert _gaps([ending], utc(2026, 3, 28), utc(2026, 3, 30)) == [Gap(utc(2026, 3, 29, 12), utc(2026, 3, 30))]
