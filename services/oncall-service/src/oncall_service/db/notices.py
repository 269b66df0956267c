"""The shift notices owed and sent (`shift_notices`). Keyword-only; none of them commits."""

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from platform_common import queue
from platform_db.models import Schedule, ShiftNotice


async def every_schedule(session: AsyncSession) -> Sequence[Schedule]:
    """Every schedule, with its layers (loaded with it)."""
    return (await session.scalars(select(Schedule).order_by(Schedule.name))).all()


async def owe(session: AsyncSession, *, notices: Sequence[dict[str, Any]], now: datetime) -> int:
    """Store these notices (notice_key, user_id, kind, message) as owed, except those whose key
    is stored already (sent, or owed by another replica's cycle). How many are new."""
    if not notices:
        return 0
    rows = [{"id": uuid.uuid4(), "status": "pending", "next_attempt_at": now, "created_at": now, **n} for n in notices]
    result = await session.execute(
        insert(ShiftNotice).values(rows).on_conflict_do_nothing(index_elements=["notice_key"])
    )
    return int(result.rowcount or 0)


async def claim(session: AsyncSession, *, now: datetime, lease_until: datetime, limit: int) -> list[ShiftNotice]:
    """Notices due for sending; the lease is `next_attempt_at` itself."""
    return await queue.claim(
        session,
        ShiftNotice,
        due=ShiftNotice.status == "pending",
        order_by=[ShiftNotice.created_at],
        lease=ShiftNotice.next_attempt_at,
        now=now,
        lease_until=lease_until,
        limit=limit,
    )


async def by_key(session: AsyncSession, *, notice_key: str) -> ShiftNotice | None:
    """One notice, locked, fresh from the database."""
    query = (
        select(ShiftNotice)
        .where(ShiftNotice.notice_key == notice_key)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    return (await session.execute(query)).scalar_one_or_none()
