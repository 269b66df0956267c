"""Teams and their members; the services teams own."""

import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from oncall_service.db import queries
from oncall_service.schemas.teams import ServiceCreate, ServiceUpdate, TeamCreate, TeamMemberIn, TeamUpdate
from oncall_service.usecases.rows import apply_changes, create, find, get_or_404, require_existing
from platform_common.errors import Unprocessable
from platform_db.models import Service, Team, TeamMember, User


async def _members(session: AsyncSession, members: list[TeamMemberIn]) -> list[TeamMember]:
    user_ids = [m.user_id for m in members]
    if len(set(user_ids)) != len(user_ids):
        raise Unprocessable("a user is listed twice in the team's members")
    await require_existing(session, model=User, ids=user_ids)
    users = await queries.rows_by_ids(session, model=User, ids=user_ids)
    return [TeamMember(user_id=m.user_id, role=m.role, user=users[m.user_id]) for m in members]


async def create_team(session: AsyncSession, *, team_in: TeamCreate) -> Team:
    """Create a team with its members; 409 when the name is taken."""
    return await create(session, Team, team_in, members=lambda: _members(session, team_in.members))


async def update_team(session: AsyncSession, *, team_id: uuid.UUID, team_in: TeamUpdate) -> Team:
    """Change a team; members given replace every member."""
    team = await get_or_404(session, model=Team, id=team_id)
    await apply_changes(session, team, team_in, members=lambda: _members(session, team_in.members))
    return team


async def put_member(session: AsyncSession, *, team_id: uuid.UUID, user_id: uuid.UUID, role: str) -> Team:
    """Add a user to a team, or change their role there."""
    team = await get_or_404(session, model=Team, id=team_id)
    await require_existing(session, model=User, ids=[user_id])
    member = next((m for m in team.members if m.user_id == user_id), None)
    if member is None:
        user = await queries.by_id(session, model=User, id=user_id)
        team.members.append(TeamMember(user_id=user_id, role=role, user=user))
    else:
        member.role = role
    await session.flush()
    return team


async def remove_member(session: AsyncSession, *, team_id: uuid.UUID, user_id: uuid.UUID) -> None:
    """Take a user off a team; 404 when they are not on it."""
    team = await get_or_404(session, model=Team, id=team_id)
    team.members.remove(find(team.members, f"user {user_id} is not a member of team {team_id}", user_id=user_id))
    await session.flush()


async def create_service(session: AsyncSession, *, service_in: ServiceCreate) -> Service:
    """Create a service; 409 when the name is taken."""
    # One field named twice would compare twice: kept once, in the order given.
    fields = list(dict.fromkeys(service_in.grouping_fields))
    return await create(session, Service, service_in.model_copy(update={"grouping_fields": fields}))


async def update_service(session: AsyncSession, *, service_id: uuid.UUID, service_in: ServiceUpdate) -> Service:
    """Change a service; team_id or escalation_policy_id set to null detaches it,
    correlation_window_minutes set to null goes back to ingestion's default."""
    service = await get_or_404(session, model=Service, id=service_id)
    await apply_changes(session, service, service_in, exclude=("correlation_window_minutes", "grouping_fields"))
    if "correlation_window_minutes" in service_in.model_fields_set:
        service.correlation_window_minutes = service_in.correlation_window_minutes
    if service_in.grouping_fields is not None:
        # One field named twice would compare twice: kept once, in the order given.
        service.grouping_fields = list(dict.fromkeys(service_in.grouping_fields))
    return service
