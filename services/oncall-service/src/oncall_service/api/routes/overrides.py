"""/api/v1/schedules/{id}/overrides and /shifts: cover-ups, and the final schedule over a range."""

import uuid
from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, Query, status

from oncall_service.api import commands
from oncall_service.api.deps import ClockDep, PageDep, SessionDep
from oncall_service.api.presenters import override_read
from oncall_service.api.schemas.common import Page, UtcDatetime
from oncall_service.api.schemas.schedules import OverrideCreate, OverrideRead, ShiftsRead
from oncall_service.db import queries
from oncall_service.usecases import oncall, overrides
from oncall_service.usecases.schedules import get_schedule
from platform_common.auth import VIEWER, Principal, Responder
from platform_common.errors import Forbidden, Unprocessable
from platform_common.roles import Role

router = APIRouter(prefix="/api/v1/schedules/{schedule_id}", tags=["schedules"])

DEFAULT_SPAN = timedelta(days=7)
Instant = Annotated[UtcDatetime | None, Query(description="ISO 8601 with an offset, e.g. 2026-03-08T09:00:00Z")]


def _own_unless_admin(principal: Principal, user_id: uuid.UUID) -> None:
    # Responders cover for others only by taking a shift themselves; admins arrange anyone's.
    if not principal.may(Role.ADMIN) and principal.user_id != user_id:
        raise Forbidden("Responders make and remove their own overrides only; ask an admin for anyone else's")


@router.post(
    "/overrides", status_code=status.HTTP_201_CREATED, response_model=OverrideRead, summary="Cover a time range"
)
async def create_override(
    schedule_id: uuid.UUID, override_in: OverrideCreate, principal: Responder, session: SessionDep
) -> OverrideRead:
    _own_unless_admin(principal, override_in.user_id)
    override = await overrides.create_override(
        session, schedule_id=schedule_id, data=commands.new_override(override_in)
    )
    await session.commit()
    return override_read(override)


@router.get("/overrides", response_model=Page[OverrideRead], dependencies=[Depends(VIEWER)])
async def list_overrides(
    schedule_id: uuid.UUID,
    session: SessionDep,
    pagination: PageDep,
    start: Annotated[Instant, Query(alias="from")] = None,
    end: Annotated[Instant, Query(alias="to")] = None,
) -> Page[OverrideRead]:
    await get_schedule(session, schedule_id=schedule_id)
    rows, total = await queries.page(
        session,
        statement=queries.overrides_of(schedule_id=schedule_id, start=start, end=end),
        limit=pagination.limit,
        offset=pagination.offset,
    )
    items = [override_read(o) for o in rows]
    return Page[OverrideRead](items=items, total=total, limit=pagination.limit, offset=pagination.offset)


@router.get("/overrides/{override_id}", response_model=OverrideRead, dependencies=[Depends(VIEWER)])
async def get_override(schedule_id: uuid.UUID, override_id: uuid.UUID, session: SessionDep) -> OverrideRead:
    return override_read(await overrides.get_override(session, schedule_id=schedule_id, override_id=override_id))


@router.delete("/overrides/{override_id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_override(
    schedule_id: uuid.UUID, override_id: uuid.UUID, principal: Responder, session: SessionDep
) -> None:
    found = await overrides.get_override(session, schedule_id=schedule_id, override_id=override_id)
    _own_unless_admin(principal, found.user_id)
    await overrides.delete_override(session, schedule_id=schedule_id, override_id=override_id)
    await session.commit()


@router.get("/shifts", response_model=ShiftsRead, response_model_by_alias=True, dependencies=[Depends(VIEWER)])
async def list_shifts(
    schedule_id: uuid.UUID,
    session: SessionDep,
    clock: ClockDep,
    start: Annotated[Instant, Query(alias="from")] = None,
    end: Annotated[Instant, Query(alias="to")] = None,
) -> ShiftsRead:
    """Final shifts over [from, to) (default: the next 7 days from now), and each layer's own."""
    start = start or clock.now()
    if end is None:
        end = start + DEFAULT_SPAN
    if end <= start:
        raise Unprocessable("`to` must be after `from`")
    return ShiftsRead.model_validate(
        await oncall.schedule_shifts(session, schedule_id=schedule_id, start=start, end=end)
    )
