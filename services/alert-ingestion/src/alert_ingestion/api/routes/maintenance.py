"""Maintenance windows: while one is active, its services' alerts are stored but open no
incident and page no one."""

import uuid
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Query

from alert_ingestion.api.deps import ClockDep, IngestorDep, SessionDep
from alert_ingestion.api.schemas import (
    MaintenanceWindowCreate,
    MaintenanceWindowPage,
    MaintenanceWindowRead,
    MaintenanceWindowUpdate,
)
from alert_ingestion.db import maintenance as queries
from alert_ingestion.domain.maintenance import is_active
from alert_ingestion.usecases import maintenance
from platform_common.auth import VIEWER, Responder
from platform_common.errors import NotFound, error_responses
from platform_common.validation import NulFree, Offset
from platform_db.models import MaintenanceWindow

router = APIRouter(prefix="/api/v1/maintenance-windows", tags=["maintenance windows"])


def _read(window: MaintenanceWindow, now: datetime) -> MaintenanceWindowRead:
    return MaintenanceWindowRead(
        id=window.id,
        services=window.services,
        start=window.starts_at,
        end=window.ends_at,
        description=window.description,
        created_by=window.created_by,
        created_at=window.created_at,
        updated_at=window.updated_at,
        active=is_active(window.starts_at, window.ends_at, now),
    )


@router.get("", summary="List maintenance windows, soonest end first", dependencies=[Depends(VIEWER)])
async def list_windows(
    session: SessionDep,
    clock: ClockDep,
    service: Annotated[NulFree | None, Query(description="only windows naming this service")] = None,
    active: Annotated[bool, Query(description="only the windows silencing alerts now")] = False,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Offset = 0,
) -> MaintenanceWindowPage:
    now = clock.now()
    items, total = await queries.list_windows(
        session, service=service, active_at=now if active else None, limit=limit, offset=offset
    )
    return MaintenanceWindowPage(items=[_read(w, now) for w in items], total=total)


@router.post(
    "",
    status_code=201,
    summary="Start a maintenance window now, or schedule one",
    responses=error_responses(422, s422="invalid input, or an end not after the start and now"),
)
async def create_window(
    body: MaintenanceWindowCreate, principal: Responder, session: SessionDep, clock: ClockDep, ingestor: IngestorDep
) -> MaintenanceWindowRead:
    now = clock.now()
    async with session.begin():
        window = await maintenance.create(
            session,
            services=body.services,
            start=body.start,
            end=body.end,
            description=body.description,
            created_by=principal.name,
            now=now,
        )
    ingestor.windows.forget()
    return _read(window, now)


@router.get(
    "/{window_id}",
    summary="A maintenance window",
    dependencies=[Depends(VIEWER)],
    responses=error_responses(404, s404="no such window"),
)
async def read_window(window_id: uuid.UUID, session: SessionDep, clock: ClockDep) -> MaintenanceWindowRead:
    window = await queries.get_window(session, window_id=window_id)
    if window is None:
        raise NotFound(f"Maintenance window {window_id} not found")
    return _read(window, clock.now())


@router.patch(
    "/{window_id}",
    summary="Change a window's services, times or description (end it early: `end` now)",
    responses=error_responses(404, 422, s404="no such window", s422="invalid input, or an end not after the start"),
)
async def update_window(
    window_id: uuid.UUID,
    body: MaintenanceWindowUpdate,
    _: Responder,
    session: SessionDep,
    clock: ClockDep,
    ingestor: IngestorDep,
) -> MaintenanceWindowRead:
    now = clock.now()
    changes = body.model_dump(exclude_unset=True, exclude_none=True)
    async with session.begin():
        window = await maintenance.update(session, window_id=window_id, changes=changes, now=now)
    ingestor.windows.forget()
    return _read(window, now)


@router.delete(
    "/{window_id}",
    status_code=204,
    summary="Remove a window: its services page again at once",
    responses=error_responses(404, s404="no such window"),
)
async def delete_window(window_id: uuid.UUID, _: Responder, session: SessionDep, ingestor: IngestorDep) -> None:
    async with session.begin():
        await maintenance.remove(session, window_id=window_id)
    ingestor.windows.forget()
