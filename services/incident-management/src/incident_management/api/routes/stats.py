"""Incidents over a time range: a summary (counts, MTTA and MTTR mean, p50, p95)
and a per-day series for charts."""

from datetime import date, datetime, timedelta
from typing import Annotated, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from fastapi import APIRouter, Depends, Query

from incident_management.api.deps import ClockDep, SessionDep
from incident_management.api.routes.incidents import as_utc
from incident_management.api.schemas import DailyStats, DayDurations, DayStats, DurationSummary, StatsSummary
from incident_management.db import stats
from incident_management.domain.state import Status
from platform_common.auth import VIEWER
from platform_common.errors import Unprocessable
from platform_common.validation import NulFree, UtcDatetime
from platform_db.enums import SEVERITIES, Severity

router = APIRouter(prefix="/api/v1/incidents/stats", tags=["incidents"], dependencies=[Depends(VIEWER)])

DEFAULT_RANGE = timedelta(days=30)
MAX_RANGE = timedelta(days=366)
Since = Annotated[UtcDatetime | None, Query(description="default: 30 days before `until`")]
Until = Annotated[UtcDatetime | None, Query(description="default: now")]


def time_range(since: datetime | None, until: datetime | None, now: datetime) -> tuple[datetime, datetime]:
    end = as_utc(until) or now
    start = as_utc(since) or end - DEFAULT_RANGE
    if start >= end:
        raise Unprocessable("`since` must be before `until`")
    if end - start > MAX_RANGE:
        raise Unprocessable("the range may span at most 366 days")
    return start, end


@router.get("/summary", summary="Counts by status and severity, MTTA and MTTR over incidents created in a range")
async def summary(
    session: SessionDep,
    clock: ClockDep,
    since: Since = None,
    until: Until = None,
    service: NulFree | None = None,
) -> StatsSummary:
    start, end = time_range(since, until, clock.now())
    row = await stats.summary(session, created_after=start, created_before=end, service=service)
    by_status = {s.value: row[f"status_{s.value}"] for s in Status}

    def durations(name: str) -> DurationSummary:
        return DurationSummary(**{part: row[f"{name}_{part}"] for part in ("count", "mean", "p50", "p95")})

    return StatsSummary(
        since=start,
        until=end,
        service=service,
        total=sum(by_status.values()),
        by_status=by_status,
        by_severity={s: row[f"sev_{s}"] for s in SEVERITIES},
        mtta_seconds=durations("mtta"),
        mttr_seconds=durations("mttr"),
    )


@router.get("/daily", summary="Per calendar day in a time zone: incidents by severity, MTTA and MTTR")
async def daily(
    session: SessionDep,
    clock: ClockDep,
    since: Since = None,
    until: Until = None,
    service: NulFree | None = None,
    severity: Severity | None = None,
    timezone: Annotated[
        NulFree, Query(max_length=64, description="IANA time zone the days are counted in, e.g. Europe/Berlin")
    ] = "UTC",
) -> DailyStats:
    start, end = time_range(since, until, clock.now())
    try:
        zone = ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError):
        raise Unprocessable(f"unknown time zone {timezone!r}; use an IANA name such as UTC or Europe/Berlin") from None
    days = calendar_days(start, end, zone)
    rows = await stats.daily(
        session,
        days=days,
        created_after=start,
        created_before=end,
        timezone=timezone,
        service=service,
        severity=severity,
    )
    found = {row["day"]: row for row in rows}
    return DailyStats(
        since=start,
        until=end,
        timezone=timezone,
        service=service,
        severity=severity,
        days=[day_stats(day, found.get(day)) for day in days],
    )


def calendar_days(start: datetime, end: datetime, zone: ZoneInfo) -> list[date]:
    """The calendar days in `zone` that [start, end) touches, in order: the day
    series a chart draws, so days without incidents are there too."""
    first = start.astimezone(zone).date()
    # `end` is exclusive: a range ending at local midnight does not touch that day.
    last = (end - timedelta(microseconds=1)).astimezone(zone).date()
    return [first + timedelta(days=n) for n in range((last - first).days + 1)]


def day_stats(day: date, row: dict[str, Any] | None) -> DayStats:
    if row is None:
        empty = DayDurations(count=0, mean=None, p50=None)
        return DayStats(
            day=day, total=0, by_severity=dict.fromkeys(SEVERITIES, 0), mtta_seconds=empty, mttr_seconds=empty
        )
    durations = {
        name: DayDurations(
            count=row[f"{name}_count"],
            mean=None if row[f"{name}_mean"] is None else float(row[f"{name}_mean"]),
            p50=row[f"{name}_p50"],
        )
        for name in ("mtta", "mttr")
    }
    return DayStats(
        day=day,
        total=row["total"],
        by_severity={s: row[f"sev_{s}"] for s in SEVERITIES},
        mtta_seconds=durations["mtta"],
        mttr_seconds=durations["mttr"],
    )
