"""/api/v1/teams: teams and their members."""

import uuid
from typing import Any

from fastapi import APIRouter, Depends, status

from oncall_service.api.deps import PageDep, SessionDep
from oncall_service.db import queries
from oncall_service.schemas.common import Page
from oncall_service.schemas.teams import TeamCreate, TeamMemberRole, TeamRead, TeamUpdate
from oncall_service.usecases import teams
from oncall_service.usecases.rows import delete_or_404, get_or_404
from platform_common.auth import ADMIN, VIEWER
from platform_db.models import Team

router = APIRouter(prefix="/api/v1/teams", tags=["teams"])


@router.post("", status_code=status.HTTP_201_CREATED, response_model=TeamRead, dependencies=[Depends(ADMIN)])
async def create_team(team_in: TeamCreate, session: SessionDep) -> Team:
    async with session.begin():
        return await teams.create_team(session, team_in=team_in)


@router.get("", response_model=Page[TeamRead], dependencies=[Depends(VIEWER)])
async def list_teams(session: SessionDep, pagination: PageDep) -> dict[str, Any]:
    return await pagination.page(session, queries.by_name(model=Team))


@router.get("/{team_id}", response_model=TeamRead, dependencies=[Depends(VIEWER)])
async def get_team(team_id: uuid.UUID, session: SessionDep) -> Team:
    return await get_or_404(session, model=Team, id=team_id)


@router.patch("/{team_id}", response_model=TeamRead, dependencies=[Depends(ADMIN)])
async def update_team(team_id: uuid.UUID, team_in: TeamUpdate, session: SessionDep) -> Team:
    async with session.begin():
        return await teams.update_team(session, team_id=team_id, team_in=team_in)


@router.delete("/{team_id}", status_code=status.HTTP_204_NO_CONTENT, dependencies=[Depends(ADMIN)])
async def delete_team(team_id: uuid.UUID, session: SessionDep) -> None:
    async with session.begin():
        await delete_or_404(session, model=Team, id=team_id)


@router.put("/{team_id}/members/{user_id}", response_model=TeamRead, dependencies=[Depends(ADMIN)])
async def put_member(
    team_id: uuid.UUID, user_id: uuid.UUID, session: SessionDep, role_in: TeamMemberRole | None = None
) -> Team:
    role = (role_in or TeamMemberRole()).role
    async with session.begin():
        return await teams.put_member(session, team_id=team_id, user_id=user_id, role=role)


@router.delete("/{team_id}/members/{user_id}", status_code=status.HTTP_204_NO_CONTENT, dependencies=[Depends(ADMIN)])
async def remove_member(team_id: uuid.UUID, user_id: uuid.UUID, session: SessionDep) -> None:
    async with session.begin():
        await teams.remove_member(session, team_id=team_id, user_id=user_id)
