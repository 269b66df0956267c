"""Maintenance windows: when a service's alerts page no one. Pure: takes `now`."""

from datetime import datetime


class BadPeriod(ValueError):
    """A window must end after it starts, and not in the past."""


def period(start: datetime | None, end: datetime, now: datetime) -> tuple[datetime, datetime]:
    """The window's (start, end): no start means now; the end must follow the start and `now`
    (a window that is over already would silence nothing and only mislead a reader)."""
    start = start or now
    if end <= start:
        raise BadPeriod("end must be after start")
    if end <= now:
        raise BadPeriod("end is in the past: the window would silence nothing")
    return start, end


def is_active(start: datetime, end: datetime, now: datetime) -> bool:
    """Whether a window silences alerts at `now` (start included, end excluded)."""
    return start <= now < end
