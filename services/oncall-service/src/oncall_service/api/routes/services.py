"""/api/v1/services: what alerts name; each owned by a team, paging through a policy."""

import uuid
from typing import Any

from fastapi import APIRouter, Depends, status

from oncall_service.api.deps import PageDep, SessionDep
from oncall_service.db import queries
from oncall_service.schemas.common import Page
from oncall_service.schemas.teams import ServiceCreate, ServiceRead, ServiceUpdate
from oncall_service.usecases import teams
from oncall_service.usecases.rows import delete_or_404, get_or_404
from platform_common.auth import ADMIN, VIEWER
from platform_db.models import Service

router = APIRouter(prefix="/api/v1/services", tags=["services"])


@router.post("", status_code=status.HTTP_201_CREATED, response_model=ServiceRead, dependencies=[Depends(ADMIN)])
async def create_service(service_in: ServiceCreate, session: SessionDep) -> Service:
    async with session.begin():
        return await teams.create_service(session, service_in=service_in)


@router.get("", response_model=Page[ServiceRead], dependencies=[Depends(VIEWER)])
async def list_services(session: SessionDep, pagination: PageDep, team_id: uuid.UUID | None = None) -> dict[str, Any]:
    return await pagination.page(session, queries.by_name(model=Service, team_id=team_id))


@router.get("/{service_id}", response_model=ServiceRead, dependencies=[Depends(VIEWER)])
async def get_service(service_id: uuid.UUID, session: SessionDep) -> Service:
    return await get_or_404(session, model=Service, id=service_id)


@router.patch("/{service_id}", response_model=ServiceRead, dependencies=[Depends(ADMIN)])
async def update_service(service_id: uuid.UUID, service_in: ServiceUpdate, session: SessionDep) -> Service:
    async with session.begin():
        return await teams.update_service(session, service_id=service_id, service_in=service_in)


@router.delete("/{service_id}", status_code=status.HTTP_204_NO_CONTENT, dependencies=[Depends(ADMIN)])
async def delete_service(service_id: uuid.UUID, session: SessionDep) -> None:
    async with session.begin():
        await delete_or_404(session, model=Service, id=service_id)
