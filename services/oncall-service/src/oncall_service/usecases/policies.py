"""Escalation policies: create, change, and the names of what their levels page."""

import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from oncall_service.db import queries
from oncall_service.schemas.policies import LevelIn, PolicyCreate, PolicyUpdate
from oncall_service.usecases.rows import apply_changes, create, get_or_404, require_existing, require_may_be_on_call
from platform_db.models import EscalationLevel, EscalationPolicy, EscalationTarget, Schedule, User


async def _levels(session: AsyncSession, levels: list[LevelIn]) -> list[EscalationLevel]:
    targets = [target for level in levels for target in level.targets]
    await require_may_be_on_call(session, ids=[t.id for t in targets if t.type == "user"], loc=["body", "levels"])
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


async def create_policy(session: AsyncSession, *, policy_in: PolicyCreate) -> EscalationPolicy:
    """Create a policy; 409 when the name is taken, 422 for an unknown team, user or schedule."""
    return await create(session, EscalationPolicy, policy_in, levels=lambda: _levels(session, policy_in.levels))


async def update_policy(session: AsyncSession, *, policy_id: uuid.UUID, policy_in: PolicyUpdate) -> EscalationPolicy:
    """Change a policy; levels given replace every level."""
    policy = await get_or_404(session, model=EscalationPolicy, id=policy_id)
    await apply_changes(session, policy, policy_in, levels=lambda: _levels(session, policy_in.levels))
    return policy


async def target_names(session: AsyncSession, *, policies: list[EscalationPolicy]) -> dict[uuid.UUID, str]:
    """The names of every user and schedule the policies target, by id (what
    schemas.policies.TargetRead reads a target's name from)."""
    targets = [t for p in policies for level in p.levels for t in level.targets]
    names = await queries.names_by_ids(session, model=User, ids=[t.user_id for t in targets if t.user_id])
    names |= await queries.names_by_ids(session, model=Schedule, ids=[t.schedule_id for t in targets if t.schedule_id])
    return names
