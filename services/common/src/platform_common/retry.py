"""The one retry policy of stored work: how long to wait after the n-th failure.

Used by every queue that retries a row later (owed incident actions, the
page outbox, assignments while oncall-service is down, deliveries); each
caller passes its own `base` and `cap` from its settings. (In-request HTTP
retries are tenacity's, in `platform_common.http`.)
"""

import random
from collections.abc import Callable
from datetime import datetime, timedelta


def backoff_seconds(failures: int, *, base: float, cap: float, rand: Callable[[], float] = random.random) -> float:
    """Seconds to wait after `failures` consecutive failures (1 -> about `base`).

    Exponential (base, 2*base, 4*base ... capped at `cap`) with "equal
    jitter": half of the step is fixed and half random, so the rows of one
    outage do not all come back in the same second, yet every wait still
    grows. `rand` (in [0, 1)) is injectable so tests can pin it.
    """
    if failures <= 0:
        return 0.0
    step = min(cap, base * 2 ** min(failures - 1, 62))
    return step / 2 + step / 2 * rand()


def retry_at(
    now: datetime, failures: int, *, base: float, cap: float, rand: Callable[[], float] = random.random
) -> datetime:
    """When to try again after `failures` failed attempts (see backoff_seconds)."""
    return now + timedelta(seconds=backoff_seconds(failures, base=base, cap=cap, rand=rand))
