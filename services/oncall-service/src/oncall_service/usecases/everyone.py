"""Who is on call in every schedule at one moment, and until when (the UI's overview)."""

import uuid
from collections import defaultdict
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from oncall_service.db import queries
from oncall_service.domain.schedule import final_shifts
from oncall_service.usecases.results import OnCallNow, OnCallPage, ScheduleRef, UserRef
from oncall_service.usecases.schedules import to_domain_layers, to_domain_overrides
from platform_db.models import Schedule

LOOK_AHEAD = timedelta(days=31)


async def on_call_everywhere(
    session: AsyncSession, *, at: datetime, team_id: uuid.UUID | None, limit: int, offset: int
) -> OnCallPage:
    """One page of schedules (by name) with the person on call at `at` and when their shift ends."""
    schedules, total = await queries.page(
        session, statement=queries.by_name(model=Schedule, team_id=team_id), limit=limit, offset=offset
    )
    horizon = at + LOOK_AHEAD
    overrides = await queries.overrides_between(session, schedule_ids=[s.id for s in schedules], start=at, end=horizon)
    by_schedule = defaultdict(list)
    for override in overrides:
        by_schedule[override.schedule_id].append(override)
    current = {}
    for schedule in schedules:
        shifts = final_shifts(to_domain_layers(schedule), to_domain_overrides(by_schedule[schedule.id]), at, horizon)
        current[schedule.id] = shifts[0] if shifts and shifts[0].start == at else None
    users = await queries.users_by_ids(
        session, ids=[uuid.UUID(shift.user_id) for shift in current.values() if shift is not None]
    )
    items = []
    for schedule in schedules:
        shift = current[schedule.id]
        user = users[uuid.UUID(shift.user_id)] if shift else None
        items.append(
            OnCallNow(
                schedule=ScheduleRef(
                    id=schedule.id, name=schedule.name, timezone=schedule.timezone, team_id=schedule.team_id
                ),
                user=UserRef(id=user.id, name=user.name, email=user.email) if user else None,
                until=shift.end if shift and shift.end < horizon else None,
            )
        )
    return OnCallPage(at=at, items=items, total=total, limit=limit, offset=offset)
