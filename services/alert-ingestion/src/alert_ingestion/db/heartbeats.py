"""Heartbeat monitors: the API's reads and writes, a ping, and the watch's claims of late ones.
Keyword-only; none of them commits."""

import uuid
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, func, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from platform_common import queue
from platform_db.models import Heartbeat


async def list_heartbeats(
    session: AsyncSession, *, service: str | None, limit: int, offset: int
) -> tuple[list[Heartbeat], int]:
    """One page of heartbeats by service and name, and how many match."""
    conditions: list[Any] = [Heartbeat.service == service] if service else []
    total = await session.scalar(select(func.count()).select_from(Heartbeat).where(*conditions)) or 0
    query = select(Heartbeat).where(*conditions).order_by(Heartbeat.service, Heartbeat.name)
    return list(await session.scalars(query.limit(limit).offset(offset))), total


async def get_heartbeat(session: AsyncSession, *, heartbeat_id: uuid.UUID) -> Heartbeat | None:
    """The heartbeat, or None."""
    return await session.get(Heartbeat, heartbeat_id, populate_existing=True)


async def add_heartbeat(session: AsyncSession, *, heartbeat: Heartbeat) -> None:
    """Store a new heartbeat (flushed: a clash of service and name raises here)."""
    session.add(heartbeat)
    await session.flush()


async def delete_heartbeat(session: AsyncSession, *, heartbeat_id: uuid.UUID) -> bool:
    """Remove the heartbeat; False when there was none."""
    return bool((await session.execute(delete(Heartbeat).where(Heartbeat.id == heartbeat_id))).rowcount)


_PING = text(
    "UPDATE heartbeats h SET last_ping_at = CAST(:now AS timestamptz),"
    " due_at = CAST(:now AS timestamptz) + make_interval(secs => h.interval_seconds),"
    " missed_since = NULL"
    " FROM (SELECT id, missed_since FROM heartbeats WHERE id = :id FOR UPDATE) before"
    " WHERE h.id = before.id RETURNING before.missed_since"
)


async def ping(session: AsyncSession, *, heartbeat_id: uuid.UUID, now: datetime) -> tuple[bool, datetime | None]:
    """Record a ping: (whether the heartbeat exists, when it had gone missing or None)."""
    row = (await session.execute(_PING, {"id": heartbeat_id, "now": now})).first()
    return (False, None) if row is None else (True, row[0])


async def claim_late(session: AsyncSession, *, now: datetime, lease: timedelta, limit: int) -> list[Heartbeat]:
    """Heartbeats late and not yet reported, leased to this process (another replica skips them)."""
    due = (Heartbeat.missed_since.is_(None)) & (Heartbeat.due_at <= now)
    return await queue.claim(
        session,
        Heartbeat,
        due=due,
        order_by=[Heartbeat.due_at],
        lease=Heartbeat.claimed_until,
        now=now,
        lease_until=now + lease,
        limit=limit,
    )


async def mark_missed(session: AsyncSession, *, heartbeat_id: uuid.UUID, due_at: datetime) -> bool:
    """Record that the miss due at `due_at` was reported, ending the lease; False when a ping came meanwhile."""
    return await queue.finish(
        session,
        Heartbeat,
        key=heartbeat_id,
        values={"missed_since": Heartbeat.due_at, "claimed_until": None},
        still_ours=[Heartbeat.due_at == due_at, Heartbeat.missed_since.is_(None)],
    )
