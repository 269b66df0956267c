"""/api/v1/schedules: rotation schedules and their layers."""

import uuid

from fastapi import APIRouter, Depends, status

from oncall_service.api import commands
from oncall_service.api.deps import PageDep, SessionDep
from oncall_service.api.presenters import layer_read, schedule_read
from oncall_service.api.schemas.common import Page
from oncall_service.api.schemas.schedules import LayerIn, LayerRead, ScheduleCreate, ScheduleRead, ScheduleUpdate
from oncall_service.db import queries
from oncall_service.usecases import schedules
from platform_common.auth import ADMIN, VIEWER
from platform_db.models import Schedule

router = APIRouter(prefix="/api/v1/schedules", tags=["schedules"])


@router.post("", status_code=status.HTTP_201_CREATED, response_model=ScheduleRead, dependencies=[Depends(ADMIN)])
async def create_schedule(schedule_in: ScheduleCreate, session: SessionDep) -> ScheduleRead:
    schedule = await schedules.create_schedule(session, data=commands.new_schedule(schedule_in))
    await session.commit()
    return schedule_read(schedule)


@router.get("", response_model=Page[ScheduleRead], dependencies=[Depends(VIEWER)])
async def list_schedules(
    session: SessionDep, pagination: PageDep, team_id: uuid.UUID | None = None
) -> Page[ScheduleRead]:
    rows, total = await queries.page(
        session,
        statement=queries.by_name(model=Schedule, team_id=team_id),
        limit=pagination.limit,
        offset=pagination.offset,
    )
    items = [schedule_read(s) for s in rows]
    return Page[ScheduleRead](items=items, total=total, limit=pagination.limit, offset=pagination.offset)


@router.get("/{schedule_id}", response_model=ScheduleRead, dependencies=[Depends(VIEWER)])
async def get_schedule(schedule_id: uuid.UUID, session: SessionDep) -> ScheduleRead:
    return schedule_read(await schedules.get_schedule(session, schedule_id=schedule_id))


@router.patch("/{schedule_id}", response_model=ScheduleRead, dependencies=[Depends(ADMIN)])
async def update_schedule(schedule_id: uuid.UUID, schedule_in: ScheduleUpdate, session: SessionDep) -> ScheduleRead:
    schedule = await schedules.update_schedule(
        session, schedule_id=schedule_id, data=commands.schedule_changes(schedule_in)
    )
    await session.commit()
    return schedule_read(schedule)


@router.delete("/{schedule_id}", status_code=status.HTTP_204_NO_CONTENT, dependencies=[Depends(ADMIN)])
async def delete_schedule(schedule_id: uuid.UUID, session: SessionDep) -> None:
    await schedules.delete_schedule(session, schedule_id=schedule_id)
    await session.commit()


@router.post(
    "/{schedule_id}/layers",
    status_code=status.HTTP_201_CREATED,
    response_model=LayerRead,
    dependencies=[Depends(ADMIN)],
)
async def add_layer(schedule_id: uuid.UUID, layer_in: LayerIn, session: SessionDep) -> LayerRead:
    layer = await schedules.add_layer(session, schedule_id=schedule_id, data=commands.new_layer(layer_in))
    await session.commit()
    return layer_read(layer)


@router.put("/{schedule_id}/layers/{layer_id}", response_model=LayerRead, dependencies=[Depends(ADMIN)])
async def replace_layer(
    schedule_id: uuid.UUID, layer_id: uuid.UUID, layer_in: LayerIn, session: SessionDep
) -> LayerRead:
    layer = await schedules.replace_layer(
        session, schedule_id=schedule_id, layer_id=layer_id, data=commands.new_layer(layer_in)
    )
    await session.commit()
    return layer_read(layer)


@router.delete(
    "/{schedule_id}/layers/{layer_id}", status_code=status.HTTP_204_NO_CONTENT, dependencies=[Depends(ADMIN)]
)
async def delete_layer(schedule_id: uuid.UUID, layer_id: uuid.UUID, session: SessionDep) -> None:
    await schedules.delete_layer(session, schedule_id=schedule_id, layer_id=layer_id)
    await session.commit()
