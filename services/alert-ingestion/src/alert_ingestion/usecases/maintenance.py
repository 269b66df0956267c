"""Maintenance windows: create, change, remove. Alerts inside one are suppressed on the
ingest path (usecases/ingest.py); these only keep the windows."""

import uuid
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from alert_ingestion.db import maintenance as queries
from alert_ingestion.domain.maintenance import BadPeriod, period
from platform_common.errors import NotFound, Unprocessable
from platform_db.models import MaintenanceWindow


def _checked(start: datetime | None, end: datetime, now: datetime) -> tuple[datetime, datetime]:
    try:
        return period(start, end, now)
    except BadPeriod as exc:
        raise Unprocessable([{"loc": ["body", "end"], "msg": str(exc), "type": "period"}]) from exc


async def create(
    session: AsyncSession,
    *,
    services: list[str],
    start: datetime | None,
    end: datetime,
    description: str,
    created_by: str,
    now: datetime,
) -> MaintenanceWindow:
    """A new window over `services`, starting at `start` (now when None) and ending at `end`."""
    starts_at, ends_at = _checked(start, end, now)
    window = MaintenanceWindow(
        id=uuid.uuid4(),
        services=sorted(set(services)),
        starts_at=starts_at,
        ends_at=ends_at,
        description=description,
        created_by=created_by,
        created_at=now,
        updated_at=now,
    )
    await queries.add_window(session, window=window)
    return window


async def update(session: AsyncSession, *, window_id: uuid.UUID, changes: dict, now: datetime) -> MaintenanceWindow:
    """Change some of a window's services, start, end and description (ending it early: `end` now)."""
    window = await queries.get_window(session, window_id=window_id)
    if window is None:
        raise NotFound(f"Maintenance window {window_id} not found")
    if "services" in changes:
        window.services = sorted(set(changes["services"]))
    if "description" in changes:
        window.description = changes["description"]
    if "start" in changes or "end" in changes:
        start = changes.get("start", window.starts_at)
        end = changes.get("end", window.ends_at)
        window.starts_at, window.ends_at = _checked(start, end, now)
    window.updated_at = now
    await session.flush()
    return window


async def remove(session: AsyncSession, *, window_id: uuid.UUID) -> None:
    """Delete the window: its services page again at once."""
    if not await queries.delete_window(session, window_id=window_id):
        raise NotFound(f"Maintenance window {window_id} not found")
