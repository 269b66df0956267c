"""Heartbeat monitors (a dead-man's switch): a monitoring system pings its URL with a key of the
heartbeat's service at least every interval; when it is late an incident opens, and its next
ping resolves it."""

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request

from alert_ingestion.api.deps import ClockDep, IngestorDep, SessionDep, sender
from alert_ingestion.api.schemas import HeartbeatCreate, HeartbeatPage, HeartbeatPinged, HeartbeatRead, HeartbeatUpdate
from alert_ingestion.db import heartbeats as queries
from alert_ingestion.usecases import heartbeats
from platform_common.auth import ADMIN, INTEGRATION_KEY, VIEWER
from platform_common.errors import NotFound, error_responses
from platform_common.validation import NulFree, Offset

router = APIRouter(prefix="/api/v1/heartbeats", tags=["heartbeats"])


@router.get("", summary="List heartbeat monitors", dependencies=[Depends(VIEWER)])
async def list_heartbeats(
    session: SessionDep,
    service: Annotated[NulFree | None, Query(description="only this service's")] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Offset = 0,
) -> HeartbeatPage:
    items, total = await queries.list_heartbeats(session, service=service, limit=limit, offset=offset)
    return HeartbeatPage(items=[HeartbeatRead.model_validate(h) for h in items], total=total)


@router.post(
    "",
    status_code=201,
    summary="Make a heartbeat monitor; its ping URL is in the answer",
    dependencies=[Depends(ADMIN)],
    responses=error_responses(409, 422, s409="the service has a heartbeat of that name", s422="invalid input"),
)
async def create_heartbeat(body: HeartbeatCreate, session: SessionDep, clock: ClockDep) -> HeartbeatRead:
    async with session.begin():
        heartbeat = await heartbeats.create(
            session, service=body.service, name=body.name, interval_seconds=body.interval_seconds, now=clock.now()
        )
    return HeartbeatRead.model_validate(heartbeat)


@router.get(
    "/{heartbeat_id}",
    summary="A heartbeat monitor",
    dependencies=[Depends(VIEWER)],
    responses=error_responses(404, s404="no such heartbeat"),
)
async def read_heartbeat(heartbeat_id: uuid.UUID, session: SessionDep) -> HeartbeatRead:
    heartbeat = await queries.get_heartbeat(session, heartbeat_id=heartbeat_id)
    if heartbeat is None:
        raise NotFound(f"Heartbeat {heartbeat_id} not found")
    return HeartbeatRead.model_validate(heartbeat)


@router.patch(
    "/{heartbeat_id}",
    summary="Change a heartbeat's interval",
    dependencies=[Depends(ADMIN)],
    responses=error_responses(404, 422, s404="no such heartbeat", s422="invalid input"),
)
async def update_heartbeat(
    heartbeat_id: uuid.UUID, body: HeartbeatUpdate, session: SessionDep, clock: ClockDep
) -> HeartbeatRead:
    async with session.begin():
        heartbeat = await heartbeats.update(
            session, heartbeat_id=heartbeat_id, interval_seconds=body.interval_seconds, now=clock.now()
        )
    return HeartbeatRead.model_validate(heartbeat)


@router.delete(
    "/{heartbeat_id}",
    status_code=204,
    summary="Remove a heartbeat monitor",
    dependencies=[Depends(ADMIN)],
    responses=error_responses(404, s404="no such heartbeat"),
)
async def delete_heartbeat(heartbeat_id: uuid.UUID, session: SessionDep) -> None:
    async with session.begin():
        await heartbeats.remove(session, heartbeat_id=heartbeat_id)


@router.post(
    "/{heartbeat_id}/ping",
    summary="Ping a heartbeat (a monitoring system's call, with a key of the heartbeat's service)",
    description=(
        "`Authorization: Bearer <integration key>` of the heartbeat's service. Any body is ignored (an"
        " Alertmanager webhook's is fine). A ping after the heartbeat went late resolves its incident."
    ),
    dependencies=[Depends(INTEGRATION_KEY)],
    responses=error_responses(
        401, 403, 404, s401="no or an unknown key", s403="a key of another service", s404="no such heartbeat"
    ),
)
async def ping_heartbeat(
    heartbeat_id: uuid.UUID, request: Request, session: SessionDep, clock: ClockDep, ingestor: IngestorDep
) -> HeartbeatPinged:
    integration = await sender(request)
    async with session.begin():
        heartbeat, missed_since = await heartbeats.ping(
            session, heartbeat_id=heartbeat_id, service=integration.service, now=clock.now()
        )
    if missed_since is not None:
        await heartbeats.resolve_miss(ingestor, heartbeat)
    return HeartbeatPinged(recovered=missed_since is not None, due_at=heartbeat.due_at)
