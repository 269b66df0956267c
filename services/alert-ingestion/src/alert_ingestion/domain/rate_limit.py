"""Rate limits per integration key and per client address (429 when exceeded):
a token bucket per key, a steady rate with room for a burst.

Counted per process: with N replicas a key may send up to N times the limit;
the limit protects each replica and the database from one runaway sender,
not a billing quota. (Holding one count across replicas would put a shared
counter, a database write or a Redis round trip, on every alert's path.)
Reads no clock: the caller passes the (monotonic) time in seconds."""

import uuid
from dataclasses import dataclass


@dataclass
class TokenBucket:
    """`capacity` events at once, refilled at `rate` per second."""

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


class RateLimiter:
    """A token bucket per key (an integration id, a client address), in this process's memory."""

    def __init__(self, per_minute: float) -> None:
        self.per_minute = per_minute
        self._buckets: dict[uuid.UUID | str, TokenBucket] = {}

    def check(self, key: uuid.UUID | str, *, now: float, events: int = 1) -> float:
        """0.0 to go ahead with `events` events, else the seconds to wait (Retry-After)."""
        if self.per_minute <= 0:
            return 0.0
        bucket = self._buckets.get(key)
        if bucket is None:
            if len(self._buckets) > 10_000:  # many addresses or keys must not grow memory forever
                self._buckets.clear()
            bucket = self._buckets[key] = new_bucket(self.per_minute, now)
        return bucket.take(now, events)
