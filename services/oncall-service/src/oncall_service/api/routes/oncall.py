"""/api/v1/oncall/current: who is paged for a service or team, now or at any moment;
/api/v1/oncall/services: the same for every service at once; /api/v1/oncall: who holds each schedule."""

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Query

from oncall_service.api.deps import ClockDep, PageDep, SessionDep
from oncall_service.db import queries
from oncall_service.schemas.common import UtcDatetime
from oncall_service.schemas.policies import OnCallRead, OnCallServices
from oncall_service.schemas.schedules import OnCallList
from oncall_service.usecases import oncall
from platform_common.auth import VIEWER
from platform_common.errors import BadRequest, NotFound, error_responses
from platform_common.validation import NulFree
from platform_db.models import Schedule, Service

# The moment each route answers for.
At = Annotated[UtcDatetime | None, Query(description="ISO 8601 with an offset; default now")]

router = APIRouter(prefix="/api/v1/oncall", tags=["on call"])


@router.get(
    "/current",
    response_model=OnCallRead,
    responses=error_responses(
        BadRequest, NotFound, s400="give exactly one of ?service= or ?team=", s404="unknown service or team"
    ),
    dependencies=[Depends(VIEWER)],
)
async def current(
    session: SessionDep,
    clock: ClockDep,
    service: Annotated[NulFree | None, Query(max_length=200, description="a service's name")] = None,
    team: Annotated[NulFree | None, Query(max_length=200, description="a team's name or id")] = None,
    at: At = None,
) -> OnCallRead:
    return OnCallRead.model_validate(await oncall.current(session, service=service, team=team, at=at or clock.now()))


@router.get("/services", response_model=OnCallServices, dependencies=[Depends(VIEWER)])
async def every_service(
    session: SessionDep,
    clock: ClockDep,
    pagination: PageDep,
    team_id: uuid.UUID | None = None,
    at: At = None,
) -> OnCallServices:
    """Every service (by name) with what `/current?service=` answers for it at `at`, each
    person it pages once in `users` and referred to by id: one request for the on-call
    page instead of one per service."""
    at = at or clock.now()
    listing = await pagination.page(session, queries.by_name(model=Service, team_id=team_id))
    found = await oncall.current_for_services(session, services=listing["items"], at=at)
    return OnCallServices.model_validate({**listing, "at": at, "items": found, "users": oncall.people(found)})


@router.get("", response_model=OnCallList, dependencies=[Depends(VIEWER)])
async def everyone_on_call(
    session: SessionDep,
    clock: ClockDep,
    pagination: PageDep,
    team_id: uuid.UUID | None = None,
    at: At = None,
) -> OnCallList:
    """Every schedule (by name) with who is on call at `at` and until when."""
    at = at or clock.now()
    listing = await pagination.page(session, queries.by_name(model=Schedule, team_id=team_id))
    items = await oncall.on_call_everywhere(session, schedules=listing["items"], at=at)
    return OnCallList.model_validate({**listing, "at": at, "items": items}, from_attributes=True)
