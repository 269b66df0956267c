"""Maintenance windows: when a service's alerts page no one. Pure: takes `now`."""

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class Window:
    """A maintenance window as the ingest path sees it."""

    id: uuid.UUID
    services: frozenset[str]
    starts_at: datetime
    ends_at: datetime
    description: str


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


def silencing(windows: Iterable[Window], service: str, now: datetime) -> Window | None:
    """The window that silences `service` at `now` (the one ending last, if several), or None."""
    active = [w for w in windows if service in w.services and is_active(w.starts_at, w.ends_at, now)]
    return max(active, key=lambda w: w.ends_at, default=None)


def suppressed_reason(window: Window, service: str) -> str:
    """Why an alert was held back, stored as its reason: the window (its description and id) and
    when it ends, so a reader can tell which window to shorten or remove."""
    what = f"'{window.description}'" if window.description else "(no description)"
    return (
        f"suppressed: maintenance window {what} on {service} until {window.ends_at:%Y-%m-%d %H:%M} UTC"
        f" (window {window.id})"
    )
