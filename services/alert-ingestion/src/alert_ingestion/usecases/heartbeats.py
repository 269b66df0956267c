"""Heartbeat monitors: keep them, take their pings, and raise or resolve their alert through
the ordinary alert path (Ingestor), so a late heartbeat opens and pages an incident like any
alert, and deduplicates like one."""

import uuid
from datetime import datetime

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from alert_ingestion.db import heartbeats as queries
from alert_ingestion.domain import heartbeat as rules
from alert_ingestion.usecases.ingest import Ingestor
from platform_common.errors import Conflict, Forbidden, NotFound
from platform_db.models import Heartbeat


async def create(session: AsyncSession, *, service: str, name: str, interval_seconds: int, now: datetime) -> Heartbeat:
    """A new heartbeat, due one interval from now (a monitor gets that long to send its first ping)."""
    heartbeat = Heartbeat(
        id=uuid.uuid4(),
        service=service,
        name=name,
        interval_seconds=interval_seconds,
        due_at=rules.next_due(now, interval_seconds),
        created_at=now,
    )
    try:
        async with session.begin_nested():
            await queries.add_heartbeat(session, heartbeat=heartbeat)
    except IntegrityError as exc:
        raise Conflict(f"Service {service!r} has a heartbeat named {name!r} already") from exc
    return heartbeat


async def update(
    session: AsyncSession, *, heartbeat_id: uuid.UUID, interval_seconds: int | None, now: datetime
) -> Heartbeat:
    """Change the interval; the next ping is then due one new interval after the last (or now)."""
    heartbeat = await queries.get_heartbeat(session, heartbeat_id=heartbeat_id)
    if heartbeat is None:
        raise NotFound(f"Heartbeat {heartbeat_id} not found")
    if interval_seconds is not None:
        heartbeat.interval_seconds = interval_seconds
        heartbeat.due_at = rules.next_due(heartbeat.last_ping_at or now, interval_seconds)
    await session.flush()
    return heartbeat


async def remove(session: AsyncSession, *, heartbeat_id: uuid.UUID) -> None:
    """Delete the heartbeat (an alert it raised stays until resolved like any other)."""
    if not await queries.delete_heartbeat(session, heartbeat_id=heartbeat_id):
        raise NotFound(f"Heartbeat {heartbeat_id} not found")


async def ping(
    session: AsyncSession, *, heartbeat_id: uuid.UUID, service: str, now: datetime
) -> tuple[Heartbeat, datetime | None]:
    """Record a ping sent with a key of `service`: the heartbeat, and when it had gone missing (None
    if it had not). 404 for no such heartbeat, 403 for a key of another service."""
    heartbeat = await queries.get_heartbeat(session, heartbeat_id=heartbeat_id)
    if heartbeat is None:
        raise NotFound(f"Heartbeat {heartbeat_id} not found")
    if heartbeat.service != service:
        raise Forbidden(f"This integration key pings heartbeats of service {service!r} only")
    _, missed_since = await queries.ping(session, heartbeat_id=heartbeat_id, now=now)
    return heartbeat, missed_since


async def resolve_miss(ingestor: Ingestor, heartbeat: Heartbeat) -> None:
    """The heartbeat is back: resolve the alert its miss raised (after the ping committed)."""
    await ingestor.ingest(
        rules.back(heartbeat_id=str(heartbeat.id), name=heartbeat.name, service=heartbeat.service),
        integration_id=None,
    )
