"""Incidents counted over a time range, aggregated by PostgreSQL: one query, few rows.
Keyword-only; none of them commits."""

from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

from sqlalchemy import ARRAY, Date, DateTime, cast, func, literal, select, text, true
from sqlalchemy.ext.asyncio import AsyncSession

from incident_management.domain.state import Status
from platform_db.enums import SEVERITIES
from platform_db.models import Incident


def _by_severity() -> list[Any]:
    return [func.count().filter(Incident.severity == s).label(f"sev_{s}") for s in SEVERITIES]


def _durations(*quantiles: float) -> list[Any]:
    """MTTA and MTTR count, mean and the given percentiles (`mtta_p50`, ...;
    percentile_cont interpolates between closest ranks)."""
    columns: list[Any] = []
    for name, column in (("mtta", Incident.mtta_seconds), ("mttr", Incident.mttr_seconds)):
        columns += [func.count(column).label(f"{name}_count"), func.avg(column).label(f"{name}_mean")]
        columns += [func.percentile_cont(q).within_group(column).label(f"{name}_p{round(q * 100)}") for q in quantiles]
    return columns


async def summary(
    session: AsyncSession, *, created_after: datetime, created_before: datetime, service: str | None
) -> dict[str, Any]:
    """Of the incidents created in the range: counts by status (`status_<s>`) and
    severity (`sev_<s>`), and MTTA/MTTR count, mean, median and 95th percentile."""
    by_status = [func.count().filter(Incident.status == s.value).label(f"status_{s.value}") for s in Status]
    query = select(*by_status, *_by_severity(), *_durations(0.5, 0.95)).where(
        Incident.created_at >= created_after, Incident.created_at < created_before
    )
    if service:
        query = query.where(Incident.service == service)
    return dict((await session.execute(query)).one()._mapping)


async def daily(
    session: AsyncSession,
    *,
    days: Sequence[date],
    created_after: datetime,
    created_before: datetime,
    timezone: str,
    service: str | None,
    severity: str | None,
) -> list[dict[str, Any]]:
    """Per calendar day of `days` (in `timezone`, those the range touches) of the
    incidents created in the range: the count, counts by severity, and MTTA/MTTR
    count, mean and median; days without incidents are absent.

    One aggregate per day over that day's stretch of ix_incidents_created_at (or
    ix_incidents_service_created_at with a service), from its local midnight to the
    next, rather than one GROUP BY over the whole range: the GROUP BY sorted every
    incident of the range by day first (246,000 for 90 days at a year's size, spilling
    to disk; bench/incident_list.py), only to sort each day's durations again. The days
    come as an array, whose length the planner reads: a generate_series it would guess
    at 1,000 rows, and compile the query (JIT) for that."""
    after, before = (literal(instant, Incident.created_at.type) for instant in (created_after, created_before))
    listed = func.unnest(literal(list(days), ARRAY(Date))).table_valued("day").render_derived(name="days")
    # (a local midnight as a timestamp without time zone; timezone() makes it an instant)
    midnight = cast(listed.c.day, DateTime)
    per_day = select(func.count().label("total"), *_by_severity(), *_durations(0.5)).where(
        Incident.created_at >= func.greatest(after, func.timezone(timezone, midnight)),
        Incident.created_at < func.least(before, func.timezone(timezone, midnight + text("interval '1 day'"))),
    )
    if service:
        per_day = per_day.where(Incident.service == service)
    if severity:
        per_day = per_day.where(Incident.severity == severity)
    counted = per_day.lateral("counted")
    query = select(listed.c.day, counted).select_from(listed.join(counted, true())).where(counted.c.total > 0)
    return [dict(row._mapping) for row in (await session.execute(query)).all()]
