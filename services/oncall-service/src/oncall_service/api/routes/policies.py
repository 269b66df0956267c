"""/api/v1/escalation-policies: who is paged, level by level, and after how long."""

import uuid

from fastapi import APIRouter, Depends, status

from oncall_service.api import commands
from oncall_service.api.deps import PageDep, SessionDep
from oncall_service.api.presenters import policy_read
from oncall_service.api.schemas.common import Page
from oncall_service.api.schemas.policies import PolicyCreate, PolicyRead, PolicyUpdate
from oncall_service.db import queries
from oncall_service.usecases import policies
from platform_common.auth import ADMIN, VIEWER
from platform_db.models import EscalationPolicy

router = APIRouter(prefix="/api/v1/escalation-policies", tags=["escalation policies"])


@router.post("", status_code=status.HTTP_201_CREATED, response_model=PolicyRead, dependencies=[Depends(ADMIN)])
async def create_policy(policy_in: PolicyCreate, session: SessionDep) -> PolicyRead:
    policy = await policies.create_policy(session, data=commands.new_policy(policy_in))
    await session.commit()
    return policy_read(policy, await policies.target_names(session, policies=[policy]))


@router.get("", response_model=Page[PolicyRead], dependencies=[Depends(VIEWER)])
async def list_policies(session: SessionDep, pagination: PageDep, team_id: uuid.UUID | None = None) -> Page[PolicyRead]:
    rows, total = await queries.page(
        session,
        statement=queries.by_name(model=EscalationPolicy, team_id=team_id),
        limit=pagination.limit,
        offset=pagination.offset,
    )
    names = await policies.target_names(session, policies=list(rows))
    items = [policy_read(p, names) for p in rows]
    return Page[PolicyRead](items=items, total=total, limit=pagination.limit, offset=pagination.offset)


@router.get("/{policy_id}", response_model=PolicyRead, dependencies=[Depends(VIEWER)])
async def get_policy(policy_id: uuid.UUID, session: SessionDep) -> PolicyRead:
    policy = await policies.get_policy(session, policy_id=policy_id)
    return policy_read(policy, await policies.target_names(session, policies=[policy]))


@router.patch("/{policy_id}", response_model=PolicyRead, dependencies=[Depends(ADMIN)])
async def update_policy(policy_id: uuid.UUID, policy_in: PolicyUpdate, session: SessionDep) -> PolicyRead:
    policy = await policies.update_policy(session, policy_id=policy_id, data=commands.policy_changes(policy_in))
    await session.commit()
    return policy_read(policy, await policies.target_names(session, policies=[policy]))


@router.delete("/{policy_id}", status_code=status.HTTP_204_NO_CONTENT, dependencies=[Depends(ADMIN)])
async def delete_policy(policy_id: uuid.UUID, session: SessionDep) -> None:
    await policies.delete_policy(session, policy_id=policy_id)
    await session.commit()
