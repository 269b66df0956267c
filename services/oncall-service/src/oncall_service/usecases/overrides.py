"""Overrides: someone covers a schedule over a time range, whoever the rotation says."""

import logging
import uuid
from datetime import datetime

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from oncall_service.db import queries
from oncall_service.schemas.schedules import OverrideCreate, OverrideUpdate
from oncall_service.usecases.rows import require_may_be_on_call
from platform_common.errors import Conflict, NotFound, Unprocessable
from platform_db.models import ScheduleOverride, User

log = logging.getLogger(__name__)

# The EXCLUDE constraint of migration 0005: no two overrides of one schedule
# share a moment. PostgreSQL reports it as SQLSTATE 23P01 (exclusion_violation).
OVERLAP_CONSTRAINT = "ex_overrides_overlap"
EXCLUSION_VIOLATION = "23P01"


def _is_overlap(error: IntegrityError) -> bool:
    # asyncpg's own error (the DBAPI adapter's __cause__) names the constraint.
    driver_error = getattr(error.orig, "__cause__", None)
    return (
        getattr(error.orig, "sqlstate", None) == EXCLUSION_VIOLATION
        and getattr(driver_error, "constraint_name", None) == OVERLAP_CONSTRAINT
    )


async def create_override(
    session: AsyncSession, *, schedule_id: uuid.UUID, override_in: OverrideCreate, created_by: uuid.UUID | None
) -> ScheduleOverride:
    """Store an override, made by `created_by` (None: the platform); 409 naming the
    override it would overlap."""
    # Writers of this schedule's overrides queue here. Not for the invariant (the
    # constraint below holds it for every writer) but because two concurrent inserts
    # of overlapping overrides can deadlock inside PostgreSQL's exclusion check, and
    # a deadlock would be a 500 where a 409 is owed.
    if await queries.lock_schedule(session, schedule_id=schedule_id) is None:
        raise NotFound(f"schedule {schedule_id} not found")
    await require_may_be_on_call(session, ids=[override_in.user_id], loc=["body", "user_id"])
    user = await queries.by_id(session, model=User, id=override_in.user_id)
    start, end = override_in.start, override_in.end
    creator = await queries.by_id(session, model=User, id=created_by) if created_by else None
    override = ScheduleOverride(
        id=uuid.uuid4(),
        schedule_id=schedule_id,
        user_id=override_in.user_id,
        user=user,
        start_at=start,
        end_at=end,
        created_by=creator.id if creator else None,
        creator=creator,
    )
    # The database decides: its EXCLUDE constraint refuses an overlap from any
    # writer, those outside this service included. The savepoint keeps the
    # transaction usable to name the override it clashed with.
    try:
        async with session.begin_nested():
            session.add(override)
    except IntegrityError as error:
        if not _is_overlap(error):
            raise
        raise await _overlap_conflict(session, schedule_id=schedule_id, start=start, end=end) from None
    # Who covers whom is worth a trail: overrides change who gets paged.
    log.info(
        "override created",
        extra={
            "schedule_id": str(schedule_id),
            "override_id": str(override.id),
            "user_id": str(override_in.user_id),
            "start": start.isoformat(),
            "end": end.isoformat(),
        },
    )
    return override


async def get_override(session: AsyncSession, *, schedule_id: uuid.UUID, override_id: uuid.UUID) -> ScheduleOverride:
    """An override of this schedule; 404 otherwise."""
    override = await queries.by_id(session, model=ScheduleOverride, id=override_id)
    if override is None or override.schedule_id != schedule_id:
        raise NotFound(f"override {override_id} not found in schedule {schedule_id}")
    return override


async def update_override(
    session: AsyncSession, *, schedule_id: uuid.UUID, override: ScheduleOverride, override_in: OverrideUpdate
) -> ScheduleOverride:
    """Change who covers or when (what the body leaves out stays); 422 when the range
    would end before it starts, 409 naming the override it would then overlap."""
    await queries.lock_schedule(session, schedule_id=schedule_id)
    # Read now: a refused flush rolls the savepoint back and expires the row.
    override_id = override.id
    start = override_in.start or override.start_at
    end = override_in.end or override.end_at
    if end <= start:
        raise Unprocessable([{"loc": ["body", "end"], "msg": "end must be after start", "type": "value_error"}])
    if override_in.user_id is not None and override_in.user_id != override.user_id:
        await require_may_be_on_call(session, ids=[override_in.user_id], loc=["body", "user_id"])
        override.user = await queries.by_id(session, model=User, id=override_in.user_id)
        override.user_id = override_in.user_id
    try:
        async with session.begin_nested():
            override.start_at, override.end_at = start, end
            await session.flush()
    except IntegrityError as error:
        if not _is_overlap(error):
            raise
        raise await _overlap_conflict(
            session, schedule_id=schedule_id, start=start, end=end, except_id=override_id
        ) from None
    log.info(
        "override changed",
        extra={
            "schedule_id": str(schedule_id),
            "override_id": str(override_id),
            "user_id": str(override.user_id),
            "start": start.isoformat(),
            "end": end.isoformat(),
        },
    )
    return override


async def delete_override(session: AsyncSession, *, schedule_id: uuid.UUID, override_id: uuid.UUID) -> None:
    """Remove an override of this schedule."""
    await session.delete(await get_override(session, schedule_id=schedule_id, override_id=override_id))
    await session.flush()
    log.info("override deleted", extra={"schedule_id": str(schedule_id), "override_id": str(override_id)})


async def _overlap_conflict(
    session: AsyncSession,
    *,
    schedule_id: uuid.UUID,
    start: datetime,
    end: datetime,
    except_id: uuid.UUID | None = None,
) -> Conflict:
    """The 409 for an override the constraint refused, naming the stored one it
    overlaps (never `except_id`, the one being changed)."""
    rule = "overrides of one schedule may touch but not overlap"
    found = await queries.overrides_between(session, schedule_ids=[schedule_id], start=start, end=end)
    clash = [other for other in found if other.id != except_id]
    if not clash:  # deleted since the refusal: still a conflict, nothing left to name
        return Conflict(f"overlaps another override; {rule}")
    other = clash[0]
    return Conflict(
        f"overlaps override {other.id} ({other.start_at.isoformat()} to {other.end_at.isoformat()}); {rule}",
        conflicting_override={
            "id": str(other.id),
            "start": other.start_at.isoformat(),
            "end": other.end_at.isoformat(),
        },
    )
