"""Retry timing for calls to services that are down."""

from datetime import datetime, timedelta


def backoff_seconds(failures: int, *, base: float = 5.0, cap: float = 300.0) -> float:
    """Exponential backoff after `failures` consecutive failures (1 -> base), capped."""
    if failures <= 0:
        return 0.0
    return min(cap, base * 2 ** min(failures - 1, 30))


def next_attempt(now: datetime, failures: int, *, base: float = 5.0, cap: float = 300.0) -> datetime:
    return now + timedelta(seconds=backoff_seconds(failures, base=base, cap=cap))
