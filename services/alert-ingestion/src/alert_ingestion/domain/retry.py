"""When to try an owed incident update again."""

from datetime import datetime, timedelta


def next_attempt(now: datetime, attempts: int, *, base_seconds: float = 2.0, max_seconds: float = 300.0) -> datetime:
    """Exponential backoff after `attempts` failed tries (1 -> base, doubling, capped)."""
    delay = min(max_seconds, base_seconds * 2 ** max(0, attempts - 1))
    return now + timedelta(seconds=delay)
