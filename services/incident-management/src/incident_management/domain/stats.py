"""Summaries of durations (MTTA, MTTR) for reports."""

import math
from collections.abc import Sequence
from dataclasses import dataclass


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
