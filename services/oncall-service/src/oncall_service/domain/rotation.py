"""Rotation arithmetic: when each shift of one layer starts and ends, and who holds it.

A layer is anchored at a local wall time, (start_date, handoff) in its timezone.
Daily and weekly rotations step in local calendar days, so every handoff happens
at the configured local time and a shift that spans a DST change lasts 23 or 25
real hours (or 167/169 for a week). Hourly rotations step in real elapsed hours:
stepping wall-clock hours would create zero-length or doubled shifts inside the
hour that DST skips or repeats.
"""

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from platform_db.enums import RotationType

_DAYS_PER_UNIT = {RotationType.DAILY: 1, RotationType.WEEKLY: 7}


@dataclass(frozen=True)
class Layer:
    """One rotation: members take turns, `shift_length` units each, from the anchor on."""

    id: str
    priority: int
    rotation_type: RotationType
    shift_length: int
    handoff: time
    start_date: date
    timezone: ZoneInfo
    members: tuple[str, ...]
    end: datetime | None = None

    def __post_init__(self) -> None:
        if self.shift_length < 1:
            raise ValueError("shift_length must be at least 1")
        if self.end is not None and self.end.tzinfo is None:
            raise ValueError("end must be timezone-aware")


@dataclass(frozen=True)
class Shift:
    """`user_id` is on call from `start` (inclusive) to `end` (exclusive), both UTC."""

    user_id: str
    start: datetime
    end: datetime


def local_to_utc(wall: datetime, tz: ZoneInfo) -> datetime:
    """The instant a naive local wall time names in `tz`.

    A wall time inside a spring-forward gap resolves with the offset in force
    before the change (PEP 495, fold=0): 02:30 on the day New York skips 02:00-03:00
    is 03:30 EDT. A repeated wall time resolves to its first occurrence.
    """
    return wall.replace(tzinfo=tz, fold=0).astimezone(UTC)


def covering_start_date(handoff: time, tz: ZoneInfo, now: datetime) -> date:
    """The start date that makes a new layer cover `now`: the local date of the last
    handoff at or before `now`, so the first shift is running already and lasts until
    the next handoff. (Today's handoff still ahead, as at 06:21 with a 09:00 handoff,
    means yesterday's.) A handoff inside a DST gap counts as local_to_utc resolves it."""
    today = now.astimezone(tz).date()
    if local_to_utc(datetime.combine(today, handoff), tz) <= now:
        return today
    return today - timedelta(days=1)


def layer_start(layer: Layer) -> datetime:
    """When the layer's first shift starts (UTC)."""
    return local_to_utc(datetime.combine(layer.start_date, layer.handoff), layer.timezone)


def boundary(layer: Layer, index: int) -> datetime:
    """The start (UTC) of shift number `index`, counting from 0 at the anchor."""
    if layer.rotation_type is RotationType.HOURLY:
        return layer_start(layer) + timedelta(hours=index * layer.shift_length)
    days = index * layer.shift_length * _DAYS_PER_UNIT[layer.rotation_type]
    return local_to_utc(datetime.combine(layer.start_date + timedelta(days=days), layer.handoff), layer.timezone)


def shift_index_at(layer: Layer, instant: datetime) -> int | None:
    """The number of the shift running at `instant`, or None before the layer starts."""
    first = layer_start(layer)
    if instant < first:
        return None
    if layer.rotation_type is RotationType.HOURLY:
        return (instant - first) // timedelta(hours=layer.shift_length)
    # Estimate from the local calendar, then correct by at most a step or two:
    # the handoff time of day and DST offsets can move the answer by one shift.
    period_days = layer.shift_length * _DAYS_PER_UNIT[layer.rotation_type]
    local_day = instant.astimezone(layer.timezone).date()
    index = max(0, (local_day - layer.start_date).days // period_days)
    while index > 0 and boundary(layer, index) > instant:
        index -= 1
    while boundary(layer, index + 1) <= instant:
        index += 1
    return index


def member_for(layer: Layer, index: int) -> str:
    """Who holds shift number `index`: members take turns in order, round and round."""
    return layer.members[index % len(layer.members)]


def layer_shifts(layer: Layer, start: datetime, end: datetime) -> list[Shift]:
    """The layer's shifts overlapping [start, end), clipped to it and to the layer's own range.

    Consecutive shifts touch exactly (no gaps, no overlaps). A shift that would be
    empty (a local day that does not exist, as when Samoa skipped 2011-12-30) is
    left out; the coverage stays contiguous.
    """
    if not layer.members:
        return []
    lo = max(start, layer_start(layer))
    hi = min(end, layer.end) if layer.end is not None else end
    if lo >= hi:
        return []
    index = shift_index_at(layer, lo) or 0  # lo is never before the layer's start
    shifts: list[Shift] = []
    shift_start = boundary(layer, index)
    while shift_start < hi:
        shift_end = boundary(layer, index + 1)
        clipped_start, clipped_end = max(shift_start, lo), min(shift_end, hi)
        if clipped_start < clipped_end:
            shifts.append(Shift(member_for(layer, index), clipped_start, clipped_end))
        index += 1
        shift_start = max(shift_end, shift_start)
    return shifts
