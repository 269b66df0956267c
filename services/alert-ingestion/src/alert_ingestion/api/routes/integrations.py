"""Integration keys: each names the service its alerts belong to."""

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Response

from alert_ingestion.api.deps import ClockDep, KeysDep, SessionDep
from alert_ingestion.api.responses import json_response
from alert_ingestion.api.schemas import IntegrationCreate, IntegrationCreated, IntegrationPage, IntegrationRead
from alert_ingestion.db import queries
from alert_ingestion.usecases import integrations
from platform_common.auth import ADMIN, VIEWER
from platform_common.errors import NotFound
from platform_common.validation import Offset

router = APIRouter(prefix="/api/v1/integrations", tags=["integrations"])


@router.post(
    "",
    status_code=201,
    response_model=IntegrationCreated,
    summary="Issue a key (shown once)",
    dependencies=[Depends(ADMIN)],
)
async def create_integration(body: IntegrationCreate, session: SessionDep, clock: ClockDep) -> Response:
    async with session.begin():
        integration, key = await integrations.create(
            session, name=body.name, service=body.service, type_=body.type, now=clock.now()
        )
    created = IntegrationCreated(**IntegrationRead.model_validate(integration).model_dump(), key=key)
    return json_response(created, 201)


@router.get(
    "",
    response_model=IntegrationPage,
    summary="List integrations (keys are never shown again)",
    dependencies=[Depends(VIEWER)],
)
async def list_integrations(
    session: SessionDep,
    include_revoked: bool = False,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Offset = 0,
) -> Response:
    items, total = await queries.list_integrations(session, include_revoked=include_revoked, limit=limit, offset=offset)
    return json_response(IntegrationPage(items=[IntegrationRead.model_validate(i) for i in items], total=total))


@router.delete(
    "/{integration_id}",
    status_code=204,
    summary="Revoke a key; alerts sent with it are refused",
    dependencies=[Depends(ADMIN)],
)
async def revoke_integration(integration_id: uuid.UUID, session: SessionDep, keys: KeysDep, clock: ClockDep) -> None:
    async with session.begin():
        integration = await queries.revoke_integration(session, integration_id=integration_id, now=clock.now())
    if integration is None:
        raise NotFound(f"Integration {integration_id} not found")
    keys.forget()
