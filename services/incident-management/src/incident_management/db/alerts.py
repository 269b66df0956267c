"""Reading the alerts alert-ingestion attached to an incident, through the
read-only view `incident_alerts` it publishes (this service never writes them)."""

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
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
            message=f"{row.format} alert: {row.message[:200]}",
            data={"alert_id": str(row.id), "action": row.action, "fingerprint": row.fingerprint, "source": row.source},
            created_at=row.received_at,
        )
        for row in await session.execute(query)
    ]
