"""The calendar of the per-day reports (MTTA, MTTR, incidents per day)."""

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo


def calendar_days(start: datetime, end: datetime, zone: ZoneInfo) -> list[date]:
    """The calendar days in `zone` that [start, end) touches, in order: the day
    series a chart draws, so days without incidents are there too."""
    first = start.astimezone(zone).date()
    # `end` is exclusive: a range ending at local midnight does not touch that day.
    last = (end - timedelta(microseconds=1)).astimezone(zone).date()
    return [first + timedelta(days=n) for n in range((last - first).days + 1)]
