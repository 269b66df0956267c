"""Properties that must hold for every rotation, zone and window (hypothesis)."""

import itertools
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from oncall_service.domain.rotation import Layer, RotationType, layer_shifts, layer_start, local_to_utc
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


@st.composite
def layers(draw, layer_id="l", priority=0):
    rotation_type = draw(st.sampled_from(list(RotationType)))
    end = draw(st.none() | instants)
    return Layer(
        id=layer_id,
        priority=priority,
        rotation_type=rotation_type,
        shift_length=draw(st.integers(1, 4 if rotation_type is not RotationType.HOURLY else 36)),
        handoff=draw(st.times().map(lambda t: time(t.hour, t.minute))),
        start_date=draw(st.dates(date(2010, 1, 1), date(2029, 12, 1))),
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
    lo = max(start, layer_start(layer))
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
        exists = local_to_utc(wall, layer.timezone).astimezone(layer.timezone).replace(tzinfo=None) == wall
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


def oracle(layer_list, overrides, moment):
    """Who is on call at one instant, worked out the slow, obvious way."""
    for override in overrides:
        if override.start <= moment < override.end:
            return override.user_id
    for layer in sorted(layer_list, key=lambda layer: layer.priority, reverse=True):
        hits = layer_shifts(layer, moment, moment + timedelta(microseconds=1))
        if hits:
            return hits[0].user_id
    return None


@given(data=st.data())
@settings(max_examples=150, deadline=None)
def test_final_shifts_never_overlap_and_agree_with_the_oracle_at_every_moment(data):
    window = data.draw(windows(max_days=20))
    layer_list = [data.draw(layers(f"l{n}", priority=n)) for n in range(data.draw(st.integers(1, 3)))]
    overrides = data.draw(override_lists(window))
    shifts = final_shifts(layer_list, overrides, *window)
    for before, after in itertools.pairwise(shifts):
        assert before.end <= after.start
    assert all(window[0] <= s.start < s.end <= window[1] for s in shifts)
    probes = {window[0], window[1] - timedelta(microseconds=1)}
    probes |= {s.start for s in shifts} | {s.end - timedelta(microseconds=1) for s in shifts}
    probes |= {o.start for o in overrides} | {o.end for o in overrides}
    for moment in sorted(p for p in probes if window[0] <= p < window[1]):
        covering = [s for s in shifts if s.start <= moment < s.end]
        assert len(covering) <= 1
        assert (covering[0].user_id if covering else None) == oracle(layer_list, overrides, moment)


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
