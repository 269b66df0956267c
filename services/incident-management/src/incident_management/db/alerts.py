"""Reading the alerts alert-ingestion attached to an incident, through the
read-only view `incident_alerts` it publishes; moving them between incidents
(merge, split) only through regroup_alerts() (database/sql/0013_grouping/),
the function ingestion's rule shares its locks with: this service never writes
them itself."""

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession

from platform_db.models import incident_alerts

# Alerts that show in the timeline: the one that opened the incident and those
# correlated into it (repeats are counted, not listed, as people read it).
ATTACHING = ("created", "correlated")


@dataclass(frozen=True)
class AlertEntry:
    """A timeline entry derived from an alert: read, never stored here."""

    id: None
    event_type: str
    actor: str
    message: str
    data: dict[str, Any]
    created_at: datetime


async def alerts_of(
    session: AsyncSession, *, incident_id: uuid.UUID, limit: int = 100
) -> tuple[list[dict[str, Any]], bool]:
    """The incident's most recent alerts (newest first), and whether there are more than `limit`."""
    query = (
        select(incident_alerts)
        .where(incident_alerts.c.incident_id == incident_id)
        .order_by(incident_alerts.c.received_at.desc())
        .limit(limit + 1)
    )
    items = [dict(row) for row in (await session.execute(query)).mappings()]
    return items[:limit], len(items) > limit


async def alert_entries(session: AsyncSession, *, incident_id: uuid.UUID) -> list[AlertEntry]:
    """The alerts that opened or joined the incident, as timeline entries."""
    query = (
        select(incident_alerts)
        .where(incident_alerts.c.incident_id == incident_id, incident_alerts.c.action.in_(ATTACHING))
        .order_by(incident_alerts.c.received_at)
    )
    return [
        AlertEntry(
            id=None,
            event_type="alert_attached",
            actor="alert-ingestion",
            message=f"{row.format} alert: {row.message[:200]}" + (f" ({row.reason})" if row.reason else ""),
            data={
                "alert_id": str(row.id),
                "action": row.action,
                "fingerprint": row.fingerprint,
                "source": row.source,
                "reason": row.reason,
            },
            created_at=row.received_at,
        )
        for row in await session.execute(query)
    ]


async def alerts_by_id(session: AsyncSession, *, ids: list[uuid.UUID]) -> list[Any]:
    """These alerts (those that exist), oldest first."""
    query = select(incident_alerts).where(incident_alerts.c.id.in_(ids)).order_by(incident_alerts.c.received_at)
    return list(await session.execute(query))


async def alert_ids_of(session: AsyncSession, *, incident_id: uuid.UUID) -> list[uuid.UUID]:
    """Every alert of the incident."""
    query = select(incident_alerts.c.id).where(incident_alerts.c.incident_id == incident_id)
    return list((await session.execute(query)).scalars())


async def regroup(
    session: AsyncSession,
    *,
    sources: list[uuid.UUID],
    reasons: list[str],
    alert_ids: list[uuid.UUID] | None,
    to: uuid.UUID,
) -> dict[uuid.UUID, int]:
    """Move the alerts of `sources` (all, or only `alert_ids`) into `to`, each source's
    with its reason; how many moved from each source."""
    rows = await session.execute(
        text(
            "SELECT from_incident, count(*) FROM regroup_alerts(CAST(:sources AS uuid[]), CAST(:reasons AS text[]),"
            " CAST(:alert_ids AS uuid[]), :to) GROUP BY from_incident"
        ),
        {"sources": sources, "reasons": reasons, "alert_ids": alert_ids, "to": to},
    )
    return {source: int(count) for source, count in rows.all()}
