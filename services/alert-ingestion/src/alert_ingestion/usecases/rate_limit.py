"""Rate limits per integration key and per client address (429 when exceeded).
Counted per process: with N replicas a key may send up to N times the limit;
the limit protects each replica and the database from one runaway sender,
not a billing quota. (Holding one count across replicas would put a shared
counter, a database write or a Redis round trip, on every alert's path.)"""

import time
import uuid

from alert_ingestion.domain.rate_limit import TokenBucket, new_bucket


class RateLimiter:
    """A token bucket per key (an integration id, a client address), in this process's memory."""

    def __init__(self, per_minute: float) -> None:
        self.per_minute = per_minute
        self._buckets: dict[uuid.UUID | str, TokenBucket] = {}

    def check(self, key: uuid.UUID | str, events: int = 1) -> float:
        """0.0 to go ahead with `events` events, else the seconds to wait (Retry-After)."""
        if self.per_minute <= 0:
            return 0.0
        now = time.monotonic()
        bucket = self._buckets.get(key)
        if bucket is None:
            if len(self._buckets) > 10_000:
                self._buckets.clear()
            bucket = self._buckets[key] = new_bucket(self.per_minute, now)
        return bucket.take(now, events)
