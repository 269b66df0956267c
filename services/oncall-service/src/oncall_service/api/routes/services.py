"""/api/v1/services: what alerts name; each owned by a team, paging through a policy."""

import uuid

from fastapi import APIRouter, Depends, status

from oncall_service.api import commands
from oncall_service.api.deps import PageDep, SessionDep
from oncall_service.api.schemas.common import Page
from oncall_service.api.schemas.teams import ServiceCreate, ServiceRead, ServiceUpdate
from oncall_service.db import queries
from oncall_service.usecases import teams
from platform_common.auth import ADMIN, VIEWER
from platform_db.models import Service

router = APIRouter(prefix="/api/v1/services", tags=["services"])


@router.post("", status_code=status.HTTP_201_CREATED, response_model=ServiceRead, dependencies=[Depends(ADMIN)])
async def create_service(service_in: ServiceCreate, session: SessionDep) -> ServiceRead:
    created = await teams.create_service(session, data=commands.new_service(service_in))
    await session.commit()
    return ServiceRead.model_validate(created)


@router.get("", response_model=Page[ServiceRead], dependencies=[Depends(VIEWER)])
async def list_services(
    session: SessionDep, pagination: PageDep, team_id: uuid.UUID | None = None
) -> Page[ServiceRead]:
    rows, total = await queries.page(
        session,
        statement=queries.by_name(model=Service, team_id=team_id),
        limit=pagination.limit,
        offset=pagination.offset,
    )
    items = [ServiceRead.model_validate(s) for s in rows]
    return Page[ServiceRead](items=items, total=total, limit=pagination.limit, offset=pagination.offset)


@router.get("/{service_id}", response_model=ServiceRead, dependencies=[Depends(VIEWER)])
async def get_service(service_id: uuid.UUID, session: SessionDep) -> ServiceRead:
    return ServiceRead.model_validate(await teams.get_service(session, service_id=service_id))


@router.patch("/{service_id}", response_model=ServiceRead, dependencies=[Depends(ADMIN)])
async def update_service(service_id: uuid.UUID, service_in: ServiceUpdate, session: SessionDep) -> ServiceRead:
    updated = await teams.update_service(session, service_id=service_id, data=commands.service_changes(service_in))
    await session.commit()
    return ServiceRead.model_validate(updated)


@router.delete("/{service_id}", status_code=status.HTTP_204_NO_CONTENT, dependencies=[Depends(ADMIN)])
async def delete_service(service_id: uuid.UUID, session: SessionDep) -> None:
    await teams.delete_service(session, service_id=service_id)
    await session.commit()
