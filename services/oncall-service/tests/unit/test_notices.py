"""The words and moments of "you are on call" notices."""

from datetime import UTC, datetime, timedelta

from oncall_service.domain.notices import boundaries, boundary_message, summary_message, summary_week
from oncall_service.domain.schedule import FinalShift

T0 = datetime(2026, 3, 2, 9, tzinfo=UTC)


def shift(user: str, start_h: int, end_h: int, source: str = "layer") -> FinalShift:
    return FinalShift(user, T0 + timedelta(hours=start_h), T0 + timedelta(hours=end_h), source, "x")


def test_a_handover_is_one_end_and_one_start_in_the_window():
    shifts = [shift("ann", -24, 0), shift("ben", 0, 24)]
    found = boundaries(shifts, after=T0 - timedelta(minutes=15), until=T0)
    assert sorted((b.kind, b.user_id) for b in found) == [("shift_end", "ann"), ("shift_start", "ben")]
    # Not yet, and no longer, outside the window.
    assert boundaries(shifts, after=T0 - timedelta(minutes=15), until=T0 - timedelta(seconds=1)) == []
    assert boundaries(shifts, after=T0, until=T0 + timedelta(minutes=15)) == []


def test_the_same_person_back_to_back_is_no_handover():
    # A layer's shift followed by an override of the same person: one stretch on call.
    shifts = [shift("ann", -24, 0), shift("ann", 0, 2, "override"), shift("ben", 2, 24)]
    found = boundaries(shifts, after=T0 - timedelta(hours=1), until=T0 + timedelta(hours=3))
    assert sorted((b.kind, b.user_id, b.at) for b in found) == [
        ("shift_end", "ann", T0 + timedelta(hours=2)),
        ("shift_start", "ben", T0 + timedelta(hours=2)),
    ]


def test_messages_speak_the_readers_time_zone_with_its_label():
    (start,) = [
        b for b in boundaries([shift("ben", 0, 24)], after=T0 - timedelta(1), until=T0) if b.kind == "shift_start"
    ]
    assert boundary_message(start, schedule="primary", timezone="America/New_York") == (
        "You are on call for primary from Mon 02 Mar 04:00 EST until Tue 03 Mar 04:00 EST."
    )
    summary = summary_message([("primary", shift("ben", 48, 72)), ("db", shift("ben", 0, 24))], timezone="UTC")
    assert summary.splitlines() == [
        "Your on-call shifts this week:",
        "- db: Mon 02 Mar 09:00 UTC until Tue 03 Mar 09:00 UTC",
        "- primary: Wed 04 Mar 09:00 UTC until Thu 05 Mar 09:00 UTC",
    ]


def test_the_summary_is_due_on_monday_morning_in_the_readers_zone():
    monday_9_berlin = datetime(2026, 3, 2, 8, tzinfo=UTC)
    assert summary_week(monday_9_berlin, "Europe/Berlin") == "2026-W10"
    assert summary_week(monday_9_berlin - timedelta(minutes=1), "Europe/Berlin") is None
    # Sunday evening in New York is already Monday in UTC, but not there.
    assert summary_week(datetime(2026, 3, 2, 2, tzinfo=UTC), "America/New_York") is None
    assert summary_week(datetime(2026, 3, 3, 9, tzinfo=UTC), "UTC") is None  # Tuesday
