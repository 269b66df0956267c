"""/api/v1/schedules/{id}/overrides and /shifts: cover-ups, and the final schedule over a range."""

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, status

from oncall_service.api.deps import ClockDep, PageDep, SessionDep
from oncall_service.db import queries
from oncall_service.schemas.common import Page, UtcDatetime
from oncall_service.schemas.schedules import OverrideCreate, OverrideRead, OverrideUpdate, ShiftsRead
from oncall_service.usecases import oncall, overrides
from oncall_service.usecases.rows import get_or_404
from platform_common.auth import VIEWER, Principal, Responder
from platform_common.errors import Conflict, Forbidden, NotFound, Unprocessable, error_responses
from platform_common.roles import Role
from platform_db.models import Schedule, ScheduleOverride

router = APIRouter(prefix="/api/v1/schedules/{schedule_id}", tags=["schedules"])

DEFAULT_SPAN = timedelta(days=7)
Instant = Annotated[UtcDatetime | None, Query(description="ISO 8601 with an offset, e.g. 2026-03-08T09:00:00Z")]


@dataclass(frozen=True)
class Window:
    """`?from=&to=` of a listing over time; either may be left out."""

    start: datetime | None
    end: datetime | None


def _window(
    start: Annotated[Instant, Query(alias="from")] = None, end: Annotated[Instant, Query(alias="to")] = None
) -> Window:
    return Window(start, end)


WindowDep = Annotated[Window, Depends(_window)]


def _own_unless_admin(principal: Principal, user_id: uuid.UUID) -> None:
    # Responders cover for others only by taking a shift themselves; admins arrange anyone's.
    if not principal.may(Role.ADMIN) and principal.user_id != user_id:
        raise Forbidden("Responders make and remove their own overrides only; ask an admin for anyone else's")


@router.post(
    "/overrides", status_code=status.HTTP_201_CREATED, response_model=OverrideRead, summary="Cover a time range"
)
async def create_override(
    schedule_id: uuid.UUID, override_in: OverrideCreate, principal: Responder, session: SessionDep
) -> ScheduleOverride:
    _own_unless_admin(principal, override_in.user_id)
    async with session.begin():
        return await overrides.create_override(
            session, schedule_id=schedule_id, override_in=override_in, created_by=principal.user_id
        )


@router.get("/overrides", response_model=Page[OverrideRead], dependencies=[Depends(VIEWER)])
async def list_overrides(
    schedule_id: uuid.UUID, session: SessionDep, window: WindowDep, pagination: PageDep
) -> dict[str, Any]:
    await get_or_404(session, model=Schedule, id=schedule_id)
    statement = queries.overrides_of(schedule_id=schedule_id, start=window.start, end=window.end)
    return await pagination.page(session, statement)


@router.get("/overrides/{override_id}", response_model=OverrideRead, dependencies=[Depends(VIEWER)])
async def get_override(schedule_id: uuid.UUID, override_id: uuid.UUID, session: SessionDep) -> ScheduleOverride:
    return await overrides.get_override(session, schedule_id=schedule_id, override_id=override_id)


@router.patch(
    "/overrides/{override_id}",
    response_model=OverrideRead,
    summary="Change who covers, or when",
    responses=error_responses(
        Forbidden,
        NotFound,
        Conflict,
        Unprocessable,
        s403="a responder changing someone else's override, or handing theirs to someone else",
        s409="the new range overlaps another override of the schedule",
        s422="invalid input, or the range would end before it starts",
    ),
)
async def update_override(
    schedule_id: uuid.UUID,
    override_id: uuid.UUID,
    override_in: OverrideUpdate,
    principal: Responder,
    session: SessionDep,
) -> ScheduleOverride:
    async with session.begin():
        found = await overrides.get_override(session, schedule_id=schedule_id, override_id=override_id)
        _own_unless_admin(principal, found.user_id)
        if override_in.user_id is not None:
            _own_unless_admin(principal, override_in.user_id)
        return await overrides.update_override(
            session, schedule_id=schedule_id, override=found, override_in=override_in
        )


@router.delete("/overrides/{override_id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_override(
    schedule_id: uuid.UUID, override_id: uuid.UUID, principal: Responder, session: SessionDep
) -> None:
    async with session.begin():
        found = await overrides.get_override(session, schedule_id=schedule_id, override_id=override_id)
        _own_unless_admin(principal, found.user_id)
        await overrides.delete_override(session, schedule_id=schedule_id, override_id=override_id)


@router.get("/shifts", response_model=ShiftsRead, response_model_by_alias=True, dependencies=[Depends(VIEWER)])
async def list_shifts(schedule_id: uuid.UUID, session: SessionDep, clock: ClockDep, window: WindowDep) -> oncall.Shifts:
    """Final shifts over [from, to) (default: the next 7 days from now), and each layer's own."""
    start = window.start or clock.now()
    end = window.end or start + DEFAULT_SPAN
    return await oncall.schedule_shifts(session, schedule_id=schedule_id, start=start, end=end)
