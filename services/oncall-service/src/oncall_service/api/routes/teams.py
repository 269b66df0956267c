"""/api/v1/teams: teams and their members."""

import uuid

from fastapi import APIRouter, Depends, status

from oncall_service.api import commands
from oncall_service.api.deps import PageDep, SessionDep
from oncall_service.api.schemas.common import Page
from oncall_service.api.schemas.teams import TeamCreate, TeamMemberRole, TeamRead, TeamUpdate
from oncall_service.db import queries
from oncall_service.usecases import teams
from platform_common.auth import ADMIN, VIEWER
from platform_db.models import Team

router = APIRouter(prefix="/api/v1/teams", tags=["teams"])


@router.post("", status_code=status.HTTP_201_CREATED, response_model=TeamRead, dependencies=[Depends(ADMIN)])
async def create_team(team_in: TeamCreate, session: SessionDep) -> TeamRead:
    team = await teams.create_team(session, data=commands.new_team(team_in))
    await session.commit()
    return TeamRead.model_validate(team)


@router.get("", response_model=Page[TeamRead], dependencies=[Depends(VIEWER)])
async def list_teams(session: SessionDep, pagination: PageDep) -> Page[TeamRead]:
    rows, total = await queries.page(
        session, statement=queries.by_name(model=Team), limit=pagination.limit, offset=pagination.offset
    )
    items = [TeamRead.model_validate(t) for t in rows]
    return Page[TeamRead](items=items, total=total, limit=pagination.limit, offset=pagination.offset)


@router.get("/{team_id}", response_model=TeamRead, dependencies=[Depends(VIEWER)])
async def get_team(team_id: uuid.UUID, session: SessionDep) -> TeamRead:
    return TeamRead.model_validate(await teams.get_team(session, team_id=team_id))


@router.patch("/{team_id}", response_model=TeamRead, dependencies=[Depends(ADMIN)])
async def update_team(team_id: uuid.UUID, team_in: TeamUpdate, session: SessionDep) -> TeamRead:
    team = await teams.update_team(session, team_id=team_id, data=commands.team_changes(team_in))
    await session.commit()
    return TeamRead.model_validate(team)


@router.delete("/{team_id}", status_code=status.HTTP_204_NO_CONTENT, dependencies=[Depends(ADMIN)])
async def delete_team(team_id: uuid.UUID, session: SessionDep) -> None:
    await teams.delete_team(session, team_id=team_id)
    await session.commit()


@router.put("/{team_id}/members/{user_id}", response_model=TeamRead, dependencies=[Depends(ADMIN)])
async def put_member(
    team_id: uuid.UUID, user_id: uuid.UUID, session: SessionDep, role_in: TeamMemberRole | None = None
) -> TeamRead:
    team = await teams.put_member(session, team_id=team_id, user_id=user_id, role=(role_in or TeamMemberRole()).role)
    await session.commit()
    return TeamRead.model_validate(team)


@router.delete("/{team_id}/members/{user_id}", status_code=status.HTTP_204_NO_CONTENT, dependencies=[Depends(ADMIN)])
async def remove_member(team_id: uuid.UUID, user_id: uuid.UUID, session: SessionDep) -> None:
    await teams.remove_member(session, team_id=team_id, user_id=user_id)
    await session.commit()
