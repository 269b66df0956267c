"""Which delivery failures are worth retrying, and what happens to a notification after an attempt.

The wait itself is the platform's one policy (`platform_common.retry`).
"""

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from platform_common.retry import backoff_seconds


class Outcome(StrEnum):
    """The result of one attempt, as stored in `notification_attempts.result`."""

    SUCCESS = "success"
    RETRYABLE = "retryable_error"
    PERMANENT = "permanent_error"


# Timeouts and rate limits heal by themselves; other 4xx mean the request or
# the address is wrong, and sending the same thing again cannot help.
_RETRYABLE_4XX = frozenset({408, 425, 429})


def classify_http_status(status: int) -> Outcome:
    """2xx delivered; 408/425/429 and 5xx worth retrying; every other answer is permanent."""
    if 200 <= status < 300:
        return Outcome.SUCCESS
    if status in _RETRYABLE_4XX or status >= 500:
        return Outcome.RETRYABLE
    # 3xx included: we do not follow redirects with a signed body, the URL is wrong.
    return Outcome.PERMANENT


def classify_smtp_code(code: int) -> Outcome:
    """SMTP reply codes: 4xx is a transient refusal (greylisting, full queue), 5xx final."""
    if 200 <= code < 400:
        return Outcome.SUCCESS
    if 400 <= code < 500:
        return Outcome.RETRYABLE
    return Outcome.PERMANENT


@dataclass(frozen=True)
class NextStep:
    """What becomes of a delivery after an attempt, and when it is tried again."""

    status: str  # delivered | pending | failed
    next_attempt_at: datetime | None = None


def next_step(
    *,
    outcome: Outcome,
    attempts: int,
    max_attempts: int,
    now: datetime,
    base: float,
    cap: float,
    rand: float,
    retry_after: float | None = None,
) -> NextStep:
    """What happens to a notification after its `attempts`-th attempt ended with `outcome`.

    A receiver's Retry-After is honoured when it asks for longer than our own
    backoff, but never beyond `cap`, so one receiver cannot park a page for hours.
    """
    if outcome is Outcome.SUCCESS:
        return NextStep("delivered")
    if outcome is Outcome.PERMANENT or attempts >= max_attempts:
        return NextStep("failed")
    delay = backoff_seconds(attempts, base=base, cap=cap, rand=lambda: rand)
    if retry_after is not None and retry_after > delay:
        delay = min(retry_after, cap)
    return NextStep("pending", now + timedelta(seconds=delay))


def parse_retry_after(value: str | None) -> float | None:
    """The delta-seconds form of a Retry-After header; HTTP dates and junk are ignored."""
    if not value:
        return None
    try:
        seconds = float(value.strip())
    except ValueError:
        return None
    return seconds if seconds >= 0 else None
