"""Properties that must hold for every rotation, zone and window (hypothesis),
checked against an oracle that shares no arithmetic with the code: it walks each
layer's handoffs one by one from its anchor and looks up who holds each moment."""

import bisect
import itertools
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from oncall_service.domain.rotation import Layer, RotationType, layer_shifts
from oncall_service.domain.schedule import Override, final_shifts, overlapping

ZONES = [
    "UTC",
    "America/New_York",
    "Europe/Berlin",
    "Australia/Sydney",
    "Australia/Lord_Howe",  # a 30-minute DST shift
    "America/Santiago",
    "Asia/Kolkata",
    "Pacific/Apia",  # skipped a whole day in 2011
]
MEMBERS = ["ann", "bob", "cy", "dee", "eve"]
# Windows and anchors within a few years, DST changes included.
instants = st.datetimes(min_value=datetime(2010, 1, 1), max_value=datetime(2030, 1, 1)).map(
    lambda d: d.replace(tzinfo=UTC)
)


def wall_time(day: date, at: time, zone: ZoneInfo) -> datetime:
    """The instant a local wall time names (UTC). A time a DST change skips or repeats
    takes the offset in force before the change (PEP 495's fold=0, what zoneinfo does
    by default): the rule the handoffs are documented to follow."""
    return datetime.combine(day, at, tzinfo=zone).astimezone(UTC)


def handoffs(layer: Layer, until: datetime) -> list[datetime]:
    """Every handoff of the layer from its anchor to past `until`, walked one shift at a
    time: hourly ones in real hours, daily and weekly ones on the local calendar."""
    days = {RotationType.DAILY: 1, RotationType.WEEKLY: 7}.get(layer.rotation_type)
    moments = [wall_time(layer.start_date, layer.handoff, layer.timezone)]
    day = layer.start_date
    while moments[-1] <= until:
        if days is None:
            moments.append(moments[-1] + timedelta(hours=layer.shift_length))
        else:
            day += timedelta(days=days * layer.shift_length)
            moments.append(wall_time(day, layer.handoff, layer.timezone))
    return moments


def holder(layer: Layer, walked: list[datetime], moment: datetime) -> str | None:
    """Who holds the layer at `moment`: the member of the last handoff at or before it."""
    if moment < walked[0] or (layer.end is not None and moment >= layer.end):
        return None
    shift = bisect.bisect_right(walked, moment) - 1  # a day that does not exist hands off twice at once
    return layer.members[shift % len(layer.members)]


@st.composite
def layers(draw, layer_id="l", priority=0, near=None):
    """A layer; with `near` (a window's start), an hourly one is anchored within about a
    year before it, so the oracle walks thousands of handoffs, not hundreds of thousands."""
    rotation_type = draw(st.sampled_from(list(RotationType)))
    end = draw(st.none() | instants)
    first, last = date(2010, 1, 1), date(2029, 12, 1)
    if near is not None and rotation_type is RotationType.HOURLY:
        first, last = near.date() - timedelta(days=400), near.date() + timedelta(days=2)
    return Layer(
        id=layer_id,
        priority=priority,
        rotation_type=rotation_type,
        shift_length=draw(st.integers(1, 4 if rotation_type is not RotationType.HOURLY else 36)),
        handoff=draw(st.times().map(lambda t: time(t.hour, t.minute))),
        start_date=draw(st.dates(first, last)),
        timezone=ZoneInfo(draw(st.sampled_from(ZONES))),
        members=tuple(draw(st.lists(st.sampled_from(MEMBERS), min_size=1, max_size=4))),
        end=end,
    )


@st.composite
def windows(draw, max_days=40):
    start = draw(instants)
    return start, start + draw(st.timedeltas(timedelta(minutes=1), timedelta(days=max_days)))


@given(layer=layers(), window=windows())
@settings(max_examples=300, deadline=None)
def test_a_layer_covers_its_part_of_any_window_contiguously(layer, window):
    start, end = window
    shifts = layer_shifts(layer, start, end)
    lo = max(start, wall_time(layer.start_date, layer.handoff, layer.timezone))
    hi = min(end, layer.end) if layer.end else end
    if lo >= hi:
        assert shifts == []
        return
    assert shifts[0].start == lo
    assert shifts[-1].end == hi
    for before, after in itertools.pairwise(shifts):
        assert before.end == after.start  # no gap, no overlap
    assert all(s.start < s.end for s in shifts)


@given(layer=layers(), window=windows(max_days=60))
@settings(max_examples=200, deadline=None)
def test_daily_and_weekly_handoffs_happen_at_the_local_handoff_time(layer, window):
    if layer.rotation_type is RotationType.HOURLY:
        return
    for shift in layer_shifts(layer, *window)[1:]:
        if layer.end is not None and shift.start >= layer.end:
            continue
        local = shift.start.astimezone(layer.timezone)
        wall = datetime.combine(local.date(), layer.handoff)
        named = wall_time(local.date(), layer.handoff, layer.timezone)
        exists = named.astimezone(layer.timezone).replace(tzinfo=None) == wall
        if shift.start > window[0] and exists:
            assert local.time() == layer.handoff, (shift, layer)


@st.composite
def override_lists(draw, window):
    start, end = window
    span = (end - start) + timedelta(days=2)
    overrides: list[Override] = []
    for number in range(draw(st.integers(0, 4))):
        begin = start - timedelta(days=1) + draw(st.timedeltas(timedelta(0), span))
        candidate = Override(
            f"o{number}",
            draw(st.sampled_from(MEMBERS)),
            begin,
            begin + draw(st.timedeltas(timedelta(minutes=1), timedelta(days=3))),
        )
        if overlapping(overrides, candidate.start, candidate.end) is None:
            overrides.append(candidate)
    return overrides


def oracle(layer_list, overrides, moment, walked):
    """Who is on call at one instant, worked out the slow, obvious way: an override,
    else the highest-priority layer someone holds then (`walked`: each layer's handoffs)."""
    for override in overrides:
        if override.start <= moment < override.end:
            return override.user_id
    for layer in sorted(layer_list, key=lambda layer: layer.priority, reverse=True):
        if (who := holder(layer, walked[layer.id], moment)) is not None:
            return who
    return None


@given(data=st.data())
@settings(max_examples=150, deadline=None)
def test_final_shifts_never_overlap_and_agree_with_the_oracle_at_every_moment(data):
    window = data.draw(windows(max_days=20))
    layer_list = [data.draw(layers(f"l{n}", n, window[0])) for n in range(data.draw(st.integers(1, 3)))]
    overrides = data.draw(override_lists(window))
    shifts = final_shifts(layer_list, overrides, *window)
    for before, after in itertools.pairwise(shifts):
        assert before.end <= after.start
    assert all(window[0] <= s.start < s.end <= window[1] for s in shifts)
    probes = {window[0], window[1] - timedelta(microseconds=1)}
    probes |= {s.start for s in shifts} | {s.end - timedelta(microseconds=1) for s in shifts}
    probes |= {o.start for o in overrides} | {o.end for o in overrides}
    walked = {layer.id: handoffs(layer, window[1]) for layer in layer_list}
    # Every handoff inside the window, and the instant before it, so a shift ending early or late shows.
    probes |= {h + d for hs in walked.values() for h in hs for d in (timedelta(0), -timedelta(microseconds=1))}
    for moment in sorted(p for p in probes if window[0] <= p < window[1]):
        covering = [s for s in shifts if s.start <= moment < s.end]
        assert len(covering) <= 1
        assert (covering[0].user_id if covering else None) == oracle(layer_list, overrides, moment, walked), moment


@given(data=st.data())
@settings(max_examples=100, deadline=None)
def test_overrides_apply_exactly_over_their_range(data):
    window = data.draw(windows(max_days=20))
    layer_list = [data.draw(layers())]
    overrides = data.draw(override_lists(window))
    shifts = final_shifts(layer_list, overrides, *window)
    for override in overrides:
        covered = [(s.start, s.end) for s in shifts if s.source_id == override.id]
        expected_start, expected_end = max(override.start, window[0]), min(override.end, window[1])
        if expected_start >= expected_end:
            assert covered == []
        else:
            assert covered == [(expected_start, expected_end)]
