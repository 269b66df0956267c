"""Per-integration rate limits (429 when exceeded). Counted per process: with
N replicas an integration may send up to N times the limit; the limit protects
each replica and the database from one runaway sender, not a billing quota."""

import time
import uuid

from alert_ingestion.domain.rate_limit import TokenBucket, new_bucket


class RateLimiter:
    """A token bucket per integration, in this process's memory."""

    def __init__(self, per_minute: float) -> None:
        self.per_minute = per_minute
        self._buckets: dict[uuid.UUID, TokenBucket] = {}

    def check(self, integration_id: uuid.UUID, events: int = 1) -> float:
        """0.0 to go ahead with `events` events, else the seconds to wait (Retry-After)."""
        if self.per_minute <= 0:
            return 0.0
        now = time.monotonic()
        bucket = self._buckets.get(integration_id)
        if bucket is None:
            if len(self._buckets) > 10_000:
                self._buckets.clear()
            bucket = self._buckets[integration_id] = new_bucket(self.per_minute, now)
        return bucket.take(now, events)
