"""Incidents counted over a time range, aggregated by PostgreSQL: one query, few rows.
Keyword-only; none of them commits."""

from datetime import datetime
from typing import Any

from sqlalchemy import func, select
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
    created_after: datetime,
    created_before: datetime,
    timezone: str,
    service: str | None,
    severity: str | None,
) -> list[dict[str, Any]]:
    """Per calendar day (in `timezone`) of the incidents created in the range: the
    count, counts by severity, and MTTA/MTTR count, mean and median. One query over
    the created_at range (ix_incidents_created_at, or ix_incidents_service_created_at
    with a service); days without incidents are absent."""
    day = func.date(func.timezone(timezone, Incident.created_at)).label("day")
    query = (
        select(day, func.count().label("total"), *_by_severity(), *_durations(0.5))
        .where(Incident.created_at >= created_after, Incident.created_at < created_before)
        .group_by(day)
        .order_by(day)
    )
    if service:
        query = query.where(Incident.service == service)
    if severity:
        query = query.where(Incident.severity == severity)
    return [dict(row._mapping) for row in (await session.execute(query)).all()]
