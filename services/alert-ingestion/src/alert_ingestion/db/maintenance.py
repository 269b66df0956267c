"""Maintenance windows: the API's reads and writes (SQLAlchemy), and the two statements of the
ingest path (asyncpg, beside the alert writer's): is the service in a window, and store an alert
suppressed. Keyword-only; none of them commits."""

import uuid
from datetime import datetime
from typing import Any

import asyncpg
from sqlalchemy import any_, delete, func, literal, select
from sqlalchemy.ext.asyncio import AsyncSession

from alert_ingestion.db.alert_writer import Row
from alert_ingestion.domain.maintenance import Window
from platform_db.models import MaintenanceWindow


async def list_windows(
    session: AsyncSession, *, service: str | None, active_at: datetime | None, limit: int, offset: int
) -> tuple[list[MaintenanceWindow], int]:
    """One page of windows, soonest end first, and how many match: of one service, or active at a time."""
    conditions: list[Any] = []
    if service:
        conditions.append(literal(service) == any_(MaintenanceWindow.services))
    if active_at is not None:
        conditions += [MaintenanceWindow.starts_at <= active_at, MaintenanceWindow.ends_at > active_at]
    total = await session.scalar(select(func.count()).select_from(MaintenanceWindow).where(*conditions)) or 0
    query = select(MaintenanceWindow).where(*conditions).order_by(MaintenanceWindow.ends_at, MaintenanceWindow.id)
    return list(await session.scalars(query.limit(limit).offset(offset))), total


async def get_window(session: AsyncSession, *, window_id: uuid.UUID) -> MaintenanceWindow | None:
    """The window, or None."""
    return await session.get(MaintenanceWindow, window_id, populate_existing=True)


async def add_window(session: AsyncSession, *, window: MaintenanceWindow) -> None:
    """Store a new window (flushed: a CHECK refusal raises here)."""
    session.add(window)
    await session.flush()


async def delete_window(session: AsyncSession, *, window_id: uuid.UUID) -> bool:
    """Remove the window; False when there was none."""
    result = await session.execute(delete(MaintenanceWindow).where(MaintenanceWindow.id == window_id))
    return bool(result.rowcount)


_NOT_OVER = "SELECT id, services, starts_at, ends_at, description FROM maintenance_windows WHERE ends_at > $1"
# Stored closed: no incident, nothing owed, and the dedup rule (ingest_alerts) never folds a later
# alert of the same key into it, so the same alert after the window opens an incident of its own.
_SUPPRESSED = (
    "INSERT INTO alerts (id, incident_id, integration_id, dedup_scope, format, source, service, severity, message,"
    " labels, fingerprint, dedup_key, status, action, event_timestamp, received_at, resolved_at, payload, reason)"
    " VALUES ($1, NULL, $2, $3, $4, $5, $6, $7, $8, $9::json, $10, $11, 'resolved', 'suppressed', $12, $13, $13,"
    " $14::json, $15)"
)


async def windows_not_over(pool: asyncpg.Pool, *, now: datetime) -> list[Window]:
    """Every window active or still to come at `now`."""
    return [
        Window(r["id"], frozenset(r["services"]), r["starts_at"], r["ends_at"], r["description"])
        for r in await pool.fetch(_NOT_OVER, now)
    ]


async def store_suppressed(pool: asyncpg.Pool, *, row: Row, now: datetime, reason: str) -> None:
    """Store an alert that arrived inside a window, with why: visible, opening nothing, paging no one."""
    await pool.execute(_SUPPRESSED, *row[:12], now, row.payload, reason)  # Row's fields in the columns' order
