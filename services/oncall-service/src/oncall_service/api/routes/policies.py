"""/api/v1/escalation-policies: who is paged, level by level, and after how long."""

import uuid

from fastapi import APIRouter, Depends, status
from sqlalchemy.ext.asyncio import AsyncSession

from oncall_service.api.deps import PageDep, SessionDep
from oncall_service.db import queries
from oncall_service.schemas.common import Page
from oncall_service.schemas.policies import PolicyCreate, PolicyRead, PolicyUpdate
from oncall_service.usecases import policies
from oncall_service.usecases.rows import delete_or_404, get_or_404
from platform_common.auth import ADMIN, VIEWER
from platform_db.models import EscalationPolicy

router = APIRouter(prefix="/api/v1/escalation-policies", tags=["escalation policies"])


async def _read(session: AsyncSession, policy: EscalationPolicy) -> PolicyRead:
    names = await policies.target_names(session, policies=[policy])
    return PolicyRead.model_validate(policy, context={"target_names": names})


@router.post("", status_code=status.HTTP_201_CREATED, response_model=PolicyRead, dependencies=[Depends(ADMIN)])
async def create_policy(policy_in: PolicyCreate, session: SessionDep) -> PolicyRead:
    async with session.begin():
        return await _read(session, await policies.create_policy(session, policy_in=policy_in))


@router.get("", response_model=Page[PolicyRead], dependencies=[Depends(VIEWER)])
async def list_policies(session: SessionDep, pagination: PageDep, team_id: uuid.UUID | None = None) -> Page[PolicyRead]:
    listing = await pagination.page(session, queries.by_name(model=EscalationPolicy, team_id=team_id))
    names = await policies.target_names(session, policies=list(listing["items"]))
    return Page[PolicyRead].model_validate(listing, from_attributes=True, context={"target_names": names})


@router.get("/{policy_id}", response_model=PolicyRead, dependencies=[Depends(VIEWER)])
async def get_policy(policy_id: uuid.UUID, session: SessionDep) -> PolicyRead:
    return await _read(session, await get_or_404(session, model=EscalationPolicy, id=policy_id))


@router.patch("/{policy_id}", response_model=PolicyRead, dependencies=[Depends(ADMIN)])
async def update_policy(policy_id: uuid.UUID, policy_in: PolicyUpdate, session: SessionDep) -> PolicyRead:
    async with session.begin():
        return await _read(session, await policies.update_policy(session, policy_id=policy_id, policy_in=policy_in))


@router.delete("/{policy_id}", status_code=status.HTTP_204_NO_CONTENT, dependencies=[Depends(ADMIN)])
async def delete_policy(policy_id: uuid.UUID, session: SessionDep) -> None:
    # Services and teams that used it fall back to no policy (ON DELETE SET NULL).
    async with session.begin():
        await delete_or_404(session, model=EscalationPolicy, id=policy_id)
