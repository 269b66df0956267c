"""Summary of incidents over a time range: counts, MTTA and MTTR (mean, p50, p95)."""

from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, Query

from incident_management.api.deps import ClockDep, SessionDep
from incident_management.api.routes.incidents import as_utc
from incident_management.api.schemas import DurationSummary, StatsSummary
from incident_management.db import queries
from incident_management.domain.state import Status
from incident_management.domain.stats import summarize
from platform_common.auth import VIEWER
from platform_common.errors import Unprocessable
from platform_common.validation import NulFree, UtcDatetime
from platform_db.enums import SEVERITIES
from platform_db.models import Incident

router = APIRouter(prefix="/api/v1/incidents/stats", tags=["incidents"], dependencies=[Depends(VIEWER)])

DEFAULT_RANGE = timedelta(days=30)
MAX_RANGE = timedelta(days=366)


@router.get("/summary", summary="Counts by status and severity, MTTA and MTTR over incidents created in a range")
async def summary(
    session: SessionDep,
    clock: ClockDep,
    since: Annotated[UtcDatetime | None, Query(description="default: 30 days before `until`")] = None,
    until: Annotated[UtcDatetime | None, Query(description="default: now")] = None,
    service: NulFree | None = None,
) -> StatsSummary:
    end = as_utc(until) or clock.now()
    start = as_utc(since) or end - DEFAULT_RANGE
    if start >= end:
        raise Unprocessable("`since` must be before `until`")
    if end - start > MAX_RANGE:
        raise Unprocessable("the range may span at most 366 days")
    window = {"created_after": start, "created_before": end, "service": service}
    by_status = await queries.count_by(session, column=Incident.status, **window)
    by_severity = await queries.count_by(session, column=Incident.severity, **window)
    mtta = summarize(await queries.durations(session, column=Incident.mtta_seconds, **window))
    mttr = summarize(await queries.durations(session, column=Incident.mttr_seconds, **window))
    return StatsSummary(
        since=start,
        until=end,
        service=service,
        total=sum(by_status.values()),
        by_status={s.value: by_status.get(s.value, 0) for s in Status},
        by_severity={s: by_severity.get(s, 0) for s in SEVERITIES},
        mtta_seconds=DurationSummary(**vars(mtta)),
        mttr_seconds=DurationSummary(**vars(mttr)),
    )
