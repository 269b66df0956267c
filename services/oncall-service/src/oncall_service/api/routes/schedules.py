"""/api/v1/schedules: rotation schedules and their layers."""

import uuid
from typing import Any

from fastapi import APIRouter, Depends, status

from oncall_service.api.deps import ClockDep, PageDep, SessionDep
from oncall_service.db import queries
from oncall_service.schemas.common import Page
from oncall_service.schemas.schedules import (
    LayerIn,
    LayerRead,
    ScheduleCreate,
    SchedulePreview,
    SchedulePreviewIn,
    ScheduleRead,
    ScheduleUpdate,
)
from oncall_service.usecases import oncall, schedules
from oncall_service.usecases.rows import get_or_404
from platform_common.auth import ADMIN, VIEWER
from platform_common.errors import NotFound, Unprocessable, error_responses
from platform_db.models import Schedule, ScheduleLayer

router = APIRouter(prefix="/api/v1/schedules", tags=["schedules"])


@router.post("", status_code=status.HTTP_201_CREATED, response_model=ScheduleRead, dependencies=[Depends(ADMIN)])
async def create_schedule(schedule_in: ScheduleCreate, session: SessionDep, clock: ClockDep) -> Schedule:
    async with session.begin():
        return await schedules.create_schedule(session, schedule_in=schedule_in, now=clock.now())


@router.post(
    "/preview",
    response_model=SchedulePreview,
    response_model_by_alias=True,
    summary="The final schedule a form would make, for the next two weeks, with every gap",
    description=(
        "Nothing is saved. The layers as the form holds them (defaults as saving would give them), stacked by"
        " priority, with the overrides of `schedule_id` when given: the final shifts from now for 14 days and"
        " every stretch nobody is on call (`gaps`), the same rule as the on-call page and"
        " `oncall_schedules_with_gap`."
    ),
    responses=error_responses(NotFound, Unprocessable, s404="no schedule `schedule_id`", s422="invalid input"),
    dependencies=[Depends(ADMIN)],
)
async def preview_schedule(body: SchedulePreviewIn, session: SessionDep, clock: ClockDep) -> oncall.Preview:
    return await oncall.preview(session, body=body, now=clock.now())


@router.get("", response_model=Page[ScheduleRead], dependencies=[Depends(VIEWER)])
async def list_schedules(session: SessionDep, pagination: PageDep, team_id: uuid.UUID | None = None) -> dict[str, Any]:
    return await pagination.page(session, queries.by_name(model=Schedule, team_id=team_id))


@router.get("/{schedule_id}", response_model=ScheduleRead, dependencies=[Depends(VIEWER)])
async def get_schedule(schedule_id: uuid.UUID, session: SessionDep) -> Schedule:
    return await get_or_404(session, model=Schedule, id=schedule_id)


@router.patch("/{schedule_id}", response_model=ScheduleRead, dependencies=[Depends(ADMIN)])
async def update_schedule(
    schedule_id: uuid.UUID, schedule_in: ScheduleUpdate, session: SessionDep, clock: ClockDep
) -> Schedule:
    async with session.begin():
        return await schedules.update_schedule(
            session, schedule_id=schedule_id, schedule_in=schedule_in, now=clock.now()
        )


@router.delete("/{schedule_id}", status_code=status.HTTP_204_NO_CONTENT, dependencies=[Depends(ADMIN)])
async def delete_schedule(schedule_id: uuid.UUID, session: SessionDep) -> None:
    async with session.begin():
        await schedules.delete_schedule(session, schedule_id=schedule_id)


@router.post(
    "/{schedule_id}/layers",
    status_code=status.HTTP_201_CREATED,
    response_model=LayerRead,
    dependencies=[Depends(ADMIN)],
)
async def add_layer(schedule_id: uuid.UUID, layer_in: LayerIn, session: SessionDep, clock: ClockDep) -> ScheduleLayer:
    async with session.begin():
        return await schedules.add_layer(session, schedule_id=schedule_id, layer_in=layer_in, now=clock.now())


@router.put("/{schedule_id}/layers/{layer_id}", response_model=LayerRead, dependencies=[Depends(ADMIN)])
async def replace_layer(
    schedule_id: uuid.UUID, layer_id: uuid.UUID, layer_in: LayerIn, session: SessionDep, clock: ClockDep
) -> ScheduleLayer:
    async with session.begin():
        return await schedules.replace_layer(
            session, schedule_id=schedule_id, layer_id=layer_id, layer_in=layer_in, now=clock.now()
        )


@router.delete(
    "/{schedule_id}/layers/{layer_id}", status_code=status.HTTP_204_NO_CONTENT, dependencies=[Depends(ADMIN)]
)
async def delete_layer(schedule_id: uuid.UUID, layer_id: uuid.UUID, session: SessionDep) -> None:
    async with session.begin():
        await schedules.delete_layer(session, schedule_id=schedule_id, layer_id=layer_id)
