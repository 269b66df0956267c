"""Teams and their members; the services teams own."""

import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from oncall_service.db import queries
from oncall_service.usecases.commands import KEEP, NewMember, NewService, NewTeam, ServiceChanges, TeamChanges
from oncall_service.usecases.references import require_existing
from platform_common.errors import Conflict, NotFound, Unprocessable
from platform_db.models import EscalationPolicy, Service, Team, TeamMember, User


async def get_team(session: AsyncSession, *, team_id: uuid.UUID) -> Team:
    """A team by id; 404 when there is none."""
    team = await queries.by_id(session, model=Team, id=team_id)
    if team is None:
        raise NotFound(f"team {team_id} not found")
    return team


async def _members(session: AsyncSession, members: list[NewMember]) -> list[TeamMember]:
    user_ids = [m.user_id for m in members]
    if len(set(user_ids)) != len(user_ids):
        raise Unprocessable("a user is listed twice in the team's members")
    await require_existing(session, model=User, ids=user_ids)
    users = await queries.users_by_ids(session, ids=user_ids)
    return [TeamMember(user_id=m.user_id, role=m.role, user=users[m.user_id]) for m in members]


async def create_team(session: AsyncSession, *, data: NewTeam) -> Team:
    """Create a team with its members; 409 when the name is taken."""
    if await queries.name_taken(session, model=Team, name=data.name):
        raise Conflict(f"a team named {data.name!r} already exists")
    await require_existing(session, model=EscalationPolicy, ids=[data.escalation_policy_id])
    team = Team(
        id=uuid.uuid4(),
        name=data.name,
        description=data.description,
        escalation_policy_id=data.escalation_policy_id,
        members=await _members(session, data.members),
    )
    session.add(team)
    await session.flush()
    return team


async def update_team(session: AsyncSession, *, team_id: uuid.UUID, data: TeamChanges) -> Team:
    """Change a team; members given replace every member."""
    team = await get_team(session, team_id=team_id)
    if data.name is not None and await queries.name_taken(session, model=Team, name=data.name, except_id=team_id):
        raise Conflict(f"a team named {data.name!r} already exists")
    if data.name is not None:
        team.name = data.name
    if data.description is not None:
        team.description = data.description
    if data.escalation_policy_id is not KEEP:
        await require_existing(session, model=EscalationPolicy, ids=[data.escalation_policy_id])
        team.escalation_policy_id = data.escalation_policy_id
    if data.members is not None:
        team.members = await _members(session, data.members)
    await session.flush()
    return team


async def delete_team(session: AsyncSession, *, team_id: uuid.UUID) -> None:
    """Remove a team."""
    await session.delete(await get_team(session, team_id=team_id))
    await session.flush()


async def put_member(session: AsyncSession, *, team_id: uuid.UUID, user_id: uuid.UUID, role: str) -> Team:
    """Add a user to a team, or change their role there."""
    team = await get_team(session, team_id=team_id)
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
    team = await get_team(session, team_id=team_id)
    member = next((m for m in team.members if m.user_id == user_id), None)
    if member is None:
        raise NotFound(f"user {user_id} is not a member of team {team_id}")
    team.members.remove(member)
    await session.flush()


async def get_service(session: AsyncSession, *, service_id: uuid.UUID) -> Service:
    """A service by id; 404 when there is none."""
    service = await queries.by_id(session, model=Service, id=service_id)
    if service is None:
        raise NotFound(f"service {service_id} not found")
    return service


async def create_service(session: AsyncSession, *, data: NewService) -> Service:
    """Create a service; 409 when the name is taken."""
    if await queries.name_taken(session, model=Service, name=data.name):
        raise Conflict(f"a service named {data.name!r} already exists")
    await require_existing(session, model=Team, ids=[data.team_id])
    await require_existing(session, model=EscalationPolicy, ids=[data.escalation_policy_id])
    service = Service(
        id=uuid.uuid4(),
        name=data.name,
        description=data.description,
        team_id=data.team_id,
        escalation_policy_id=data.escalation_policy_id,
    )
    session.add(service)
    await session.flush()
    return service


async def update_service(session: AsyncSession, *, service_id: uuid.UUID, data: ServiceChanges) -> Service:
    """Change a service; team_id or escalation_policy_id set to None detaches it."""
    service = await get_service(session, service_id=service_id)
    if data.name is not None:
        if await queries.name_taken(session, model=Service, name=data.name, except_id=service_id):
            raise Conflict(f"a service named {data.name!r} already exists")
        service.name = data.name
    if data.description is not None:
        service.description = data.description
    # An explicit null detaches the team or the policy.
    if data.team_id is not KEEP:
        await require_existing(session, model=Team, ids=[data.team_id])
        service.team_id = data.team_id
    if data.escalation_policy_id is not KEEP:
        await require_existing(session, model=EscalationPolicy, ids=[data.escalation_policy_id])
        service.escalation_policy_id = data.escalation_policy_id
    await session.flush()
    return service


async def delete_service(session: AsyncSession, *, service_id: uuid.UUID) -> None:
    """Remove a service."""
    await session.delete(await get_service(session, service_id=service_id))
    await session.flush()
