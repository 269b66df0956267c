"""Token buckets: a steady rate with room for a burst."""

from dataclasses import dataclass


@dataclass
class TokenBucket:
    """`capacity` events at once, refilled at `rate` per second. Pure: the
    caller passes the (monotonic) time in seconds."""

    rate: float
    capacity: float
    tokens: float
    updated: float

    def take(self, now: float, events: int = 1) -> float:
        """0.0 when `events` may pass (and are counted), else the seconds to
        wait; a refused request takes nothing."""
        self.tokens = min(self.capacity, self.tokens + (now - self.updated) * self.rate)
        self.updated = now
        if self.tokens >= events:
            self.tokens -= events
            return 0.0
        return (events - self.tokens) / self.rate


def new_bucket(per_minute: float, now: float) -> TokenBucket:
    """A minute's worth of burst, refilled evenly over the minute."""
    return TokenBucket(rate=per_minute / 60, capacity=per_minute, tokens=per_minute, updated=now)
