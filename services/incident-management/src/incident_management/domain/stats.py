"""Summaries of durations (MTTA, MTTR) for reports."""

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo


@dataclass(frozen=True)
class Summary:
    """Count, mean and percentiles of a set of durations."""

    count: int
    mean: float | None
    p50: float | None
    p95: float | None


def percentile(sorted_values: Sequence[float], q: float) -> float:
    """Linear interpolation between closest ranks (numpy's default), q in [0, 1]."""
    if not sorted_values:
        raise ValueError("percentile of no values")
    position = (len(sorted_values) - 1) * q
    low, high = math.floor(position), math.ceil(position)
    if low == high:
        return float(sorted_values[low])
    fraction = position - low
    return float(sorted_values[low] + (sorted_values[high] - sorted_values[low]) * fraction)


def summarize(values: Sequence[float]) -> Summary:
    """Count, mean, median and 95th percentile of `values` (None when empty)."""
    ordered = sorted(values)
    if not ordered:
        return Summary(count=0, mean=None, p50=None, p95=None)
    return Summary(
        count=len(ordered),
        mean=sum(ordered) / len(ordered),
        p50=percentile(ordered, 0.5),
        p95=percentile(ordered, 0.95),
    )


def calendar_days(start: datetime, end: datetime, zone: ZoneInfo) -> list[date]:
    """The calendar days in `zone` that [start, end) touches, in order: the day
    series a chart draws, so days without incidents are there too."""
    first = start.astimezone(zone).date()
    # `end` is exclusive: a range ending at local midnight does not touch that day.
    last = (end - timedelta(microseconds=1)).astimezone(zone).date()
    return [first + timedelta(days=n) for n in range((last - first).days + 1)]
