"""Overrides: someone covers a schedule over a time range, whoever the rotation says."""

import logging
import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from oncall_service.api.schemas.schedules import OverrideCreate
from oncall_service.db import queries
from oncall_service.db.models import ScheduleOverride, User
from oncall_service.services.references import require_existing
from platform_common.errors import Conflict, NotFound

log = logging.getLogger(__name__)


async def create_override(session: AsyncSession, *, schedule_id: uuid.UUID, data: OverrideCreate) -> ScheduleOverride:
    # Lock the schedule first: concurrent writers of this schedule's overrides
    # queue here, so the overlap check below sees every committed override.
    schedule = await queries.lock_schedule(session, schedule_id=schedule_id)
    if schedule is None:
        raise NotFound(f"schedule {schedule_id} not found")
    await require_existing(session, model=User, ids=[data.user_id])
    clash = await queries.overrides_between(session, schedule_ids=[schedule_id], start=data.start, end=data.end)
    if clash:
        other = clash[0]
        raise Conflict(
            f"overlaps override {other.id} ({other.start_at.isoformat()} to {other.end_at.isoformat()});"
            " overrides of one schedule may touch but not overlap",
            conflicting_override={
                "id": str(other.id),
                "start": other.start_at.isoformat(),
                "end": other.end_at.isoformat(),
            },
        )
    user = await queries.by_id(session, model=User, id=data.user_id)
    override = ScheduleOverride(
        id=uuid.uuid4(), schedule_id=schedule_id, user_id=data.user_id, user=user, start_at=data.start, end_at=data.end
    )
    session.add(override)
    await session.flush()
    # Who covers whom is worth a trail: overrides change who gets paged.
    log.info(
        "override created",
        extra={
            "schedule_id": str(schedule_id),
            "override_id": str(override.id),
            "user_id": str(data.user_id),
            "start": data.start.isoformat(),
            "end": data.end.isoformat(),
        },
    )
    return override


async def get_override(session: AsyncSession, *, schedule_id: uuid.UUID, override_id: uuid.UUID) -> ScheduleOverride:
    override = await queries.by_id(session, model=ScheduleOverride, id=override_id)
    if override is None or override.schedule_id != schedule_id:
        raise NotFound(f"override {override_id} not found in schedule {schedule_id}")
    return override


async def delete_override(session: AsyncSession, *, schedule_id: uuid.UUID, override_id: uuid.UUID) -> None:
    await session.delete(await get_override(session, schedule_id=schedule_id, override_id=override_id))
    await session.flush()
    log.info("override deleted", extra={"schedule_id": str(schedule_id), "override_id": str(override_id)})
