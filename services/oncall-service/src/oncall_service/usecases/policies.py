"""Escalation policies: create, change, remove, and read with target names."""

import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from oncall_service.db import queries
from oncall_service.usecases.commands import KEEP, NewLevel, NewPolicy, PolicyChanges
from oncall_service.usecases.references import require_existing
from oncall_service.usecases.results import TargetRef
from platform_common.errors import Conflict, NotFound
from platform_db.models import EscalationLevel, EscalationPolicy, EscalationTarget, Schedule, Team, User


async def get_policy(session: AsyncSession, *, policy_id: uuid.UUID) -> EscalationPolicy:
    """A policy by id; 404 when there is none."""
    policy = await queries.by_id(session, model=EscalationPolicy, id=policy_id)
    if policy is None:
        raise NotFound(f"escalation policy {policy_id} not found")
    return policy


async def _levels(session: AsyncSession, levels: list[NewLevel]) -> list[EscalationLevel]:
    targets = [target for level in levels for target in level.targets]
    await require_existing(session, model=User, ids=[t.id for t in targets if t.type == "user"])
    await require_existing(session, model=Schedule, ids=[t.id for t in targets if t.type == "schedule"])
    built = []
    for position, level in enumerate(levels):
        unique = list(dict.fromkeys((t.type, t.id) for t in level.targets))
        built.append(
            EscalationLevel(
                id=uuid.uuid4(),
                position=position,
                delay_minutes=level.delay_minutes,
                targets=[
                    EscalationTarget(
                        id=uuid.uuid4(),
                        position=number,
                        target_type=type_,
                        user_id=target_id if type_ == "user" else None,
                        schedule_id=target_id if type_ == "schedule" else None,
                    )
                    for number, (type_, target_id) in enumerate(unique)
                ],
            )
        )
    return built


async def create_policy(session: AsyncSession, *, data: NewPolicy) -> EscalationPolicy:
    """Create a policy; 409 when the name is taken, 404 for an unknown team, user or schedule."""
    if await queries.name_taken(session, model=EscalationPolicy, name=data.name):
        raise Conflict(f"an escalation policy named {data.name!r} already exists")
    await require_existing(session, model=Team, ids=[data.team_id])
    policy = EscalationPolicy(
        id=uuid.uuid4(),
        name=data.name,
        description=data.description,
        team_id=data.team_id,
        repeat_count=data.repeat_count,
        levels=await _levels(session, data.levels),
    )
    session.add(policy)
    await session.flush()
    return policy


async def update_policy(session: AsyncSession, *, policy_id: uuid.UUID, data: PolicyChanges) -> EscalationPolicy:
    """Change a policy; levels given replace every level."""
    policy = await get_policy(session, policy_id=policy_id)
    if data.name is not None:
        if await queries.name_taken(session, model=EscalationPolicy, name=data.name, except_id=policy_id):
            raise Conflict(f"an escalation policy named {data.name!r} already exists")
        policy.name = data.name
    if data.description is not None:
        policy.description = data.description
    if data.team_id is not KEEP:
        await require_existing(session, model=Team, ids=[data.team_id])
        policy.team_id = data.team_id
    if data.repeat_count is not None:
        policy.repeat_count = data.repeat_count
    if data.levels is not None:
        levels = await _levels(session, data.levels)
        # Old rows go first: the unit of work would otherwise insert the new
        # levels before deleting the old and trip the (policy, position) key.
        policy.levels.clear()
        await session.flush()
        policy.levels.extend(levels)
    await session.flush()
    return policy


async def delete_policy(session: AsyncSession, *, policy_id: uuid.UUID) -> None:
    """Remove a policy."""
    # Services and teams that used it fall back to no policy (ON DELETE SET NULL).
    await session.delete(await get_policy(session, policy_id=policy_id))
    await session.flush()


async def target_names(session: AsyncSession, *, policies: list[EscalationPolicy]) -> dict[uuid.UUID, str]:
    """The names of every user and schedule the policies target, by id."""
    targets = [t for p in policies for level in p.levels for t in level.targets]
    names = await queries.names_by_ids(session, model=User, ids=[t.user_id for t in targets if t.user_id])
    names |= await queries.names_by_ids(session, model=Schedule, ids=[t.schedule_id for t in targets if t.schedule_id])
    return names


def target_ref(target: EscalationTarget, names: dict[uuid.UUID, str]) -> TargetRef:
    """A level's target with its user's or schedule's name (`names` from target_names())."""
    target_id = target.user_id if target.target_type == "user" else target.schedule_id
    assert target_id is not None  # a CHECK constraint guarantees one of the two
    return TargetRef(type=target.target_type, id=target_id, name=names.get(target_id, ""))
