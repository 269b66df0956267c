"""How long an account stays locked after failed logins in a row. Pure.

The first few failures cost nothing (a typo, a forgotten caps lock); from the
FREE_FAILURES-th on, each failure locks the account for twice as long as the
one before, up to MAX_LOCK. A guesser gets a handful of tries per quarter
hour; the owner, after a lock, is told when to try again.
"""

from datetime import timedelta

FREE_FAILURES = 5
FIRST_LOCK = timedelta(seconds=30)
MAX_LOCK = timedelta(minutes=15)


def lock_for(failures: int) -> timedelta | None:
    """The lock earned by `failures` failed logins in a row; None: no lock."""
    if failures < FREE_FAILURES:
        return None
    doublings = min(failures - FREE_FAILURES, 10)
    return min(FIRST_LOCK * 2**doublings, MAX_LOCK)
