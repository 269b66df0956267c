"""/api/v1/oncall/current: who is paged for a service or team, now or at any moment."""

from typing import Annotated

from fastapi import APIRouter, Query

from oncall_service.api.deps import ClockDep, SessionDep
from oncall_service.api.schemas.common import UtcDatetime
from oncall_service.api.schemas.policies import OnCallRead
from oncall_service.services import oncall

router = APIRouter(prefix="/api/v1/oncall", tags=["on call"])


@router.get("/current", response_model=OnCallRead)
async def current(
    session: SessionDep,
    clock: ClockDep,
    service: Annotated[str | None, Query(max_length=200, description="a service's name")] = None,
    team: Annotated[str | None, Query(max_length=200, description="a team's name or id")] = None,
    at: Annotated[UtcDatetime | None, Query(description="ISO 8601 with an offset; default now")] = None,
) -> OnCallRead:
    return await oncall.current(session, service=service, team=team, at=at or clock.now())
