"""Keyword-only queries on one connection. None of them commits: the use case
owns the transaction."""

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import and_, exists, func, insert, select, text, true, update
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.orm import aliased

from platform_common import queue
from platform_db.models import Alert, IncidentAction, Integration

OPEN = Alert.status != "resolved"


async def find_integration(conn: AsyncConnection, *, key_hash: str) -> Integration | None:
    """The integration with this key hash, revoked or not."""
    row = (await conn.execute(select(Integration.__table__).where(Integration.key_hash == key_hash))).first()
    return Integration(**row._mapping) if row else None


async def has_open_alerts(conn: AsyncConnection, *, incident_id: uuid.UUID) -> bool:
    """True while any alert of the incident is still open."""
    query = select(exists().where(Alert.incident_id == incident_id, OPEN))
    return bool((await conn.execute(query)).scalar())


async def opening_alert(conn: AsyncConnection, *, incident_id: uuid.UUID) -> Alert | None:
    """The alert that reserved this incident (the one ingest_alerts() answered 'created')."""
    query = select(Alert.__table__).where(Alert.incident_id == incident_id, Alert.action == "created")
    row = (await conn.execute(query)).first()
    return Alert(**row._mapping) if row else None


async def acting_integration(conn: AsyncConnection, *, incident_id: uuid.UUID) -> dict[str, str] | None:
    """The integration an incident change is recorded under: that of the
    incident's most recently received alert (the one whose trigger, acknowledge
    or resolve is being sent); None for alerts sent before keys were required."""
    query = (
        select(Integration.id, Integration.name)
        .join(Alert, Alert.integration_id == Integration.id)
        .where(Alert.incident_id == incident_id)
        .order_by(Alert.received_at.desc())
        .limit(1)
    )
    row = (await conn.execute(query)).first()
    return {"id": str(row.id), "name": row.name} if row else None


async def open_incident(
    conn: AsyncConnection,
    *,
    incident_id: uuid.UUID,
    title: str,
    description: str,
    service: str,
    severity: str,
    actor: str,
    now: datetime,
) -> bool:
    """The fallback: open the incident through incident-management's own function
    (database/sql/0006_one_owner/open_incident.sql). False when it exists already."""
    result = await conn.execute(
        text(
            "SELECT open_incident(:id, :title, :description, :service, NULL, :severity,"
            " 'ingestion_fallback', :actor, :now)"
        ),
        {
            "id": incident_id,
            "title": title,
            "description": description,
            "service": service,
            "severity": severity,
            "actor": actor,
            "now": now,
        },
    )
    return bool(result.scalar())


async def claim_actions(
    conn: AsyncConnection,
    *,
    now: datetime,
    lease_until: datetime,
    limit: int,
    ids: Sequence[uuid.UUID] | None = None,
    incident_id: uuid.UUID | None = None,
) -> list[IncidentAction]:
    """Take due pending actions for this worker (or just `ids`, or just those of
    one incident) by pushing their next attempt to `lease_until`; SKIP LOCKED
    lets replicas share the queue without waiting. An action waits while an
    earlier one of its incident is pending (even leased elsewhere), so at most
    one action per incident is claimed at a time."""
    earlier = aliased(IncidentAction)
    due = [
        IncidentAction.status == "pending",
        # One incident's actions go in the order they were owed (its create before its acknowledge).
        ~exists().where(
            earlier.incident_id == IncidentAction.incident_id,
            earlier.seq < IncidentAction.seq,
            earlier.status == "pending",
        ),
    ]
    if ids is not None:
        due.append(IncidentAction.id.in_(ids))
    if incident_id is not None:
        due.append(IncidentAction.incident_id == incident_id)
    # The lease is `next_attempt_at` itself: a claimed action is not due again until it runs out.
    return await queue.claim(
        conn,
        IncidentAction,
        due=due,
        order_by=[IncidentAction.seq],
        lease=IncidentAction.next_attempt_at,
        now=now,
        lease_until=lease_until,
        limit=limit,
        values={"updated_at": now},
    )


async def finish_action(
    conn: AsyncConnection,
    *,
    action_id: uuid.UUID,
    status: str,
    attempts: int,
    next_attempt_at: datetime,
    error: str | None,
    now: datetime,
) -> None:
    """Record an owed action's attempt: its status, attempts so far and when to try again."""
    await queue.finish(
        conn,
        IncidentAction,
        key=action_id,
        values={
            "status": status,
            "attempts": attempts,
            "next_attempt_at": next_attempt_at,
            "last_error": error,
            "updated_at": now,
        },
    )


async def list_alerts(
    conn: AsyncConnection,
    *,
    filters: dict[str, Any],
    since: datetime | None,
    until: datetime | None,
    limit: int,
    offset: int,
) -> tuple[list[Alert], int]:
    """A page of alerts, newest first, and how many match in all."""
    conditions = [getattr(Alert, name) == value for name, value in filters.items() if value is not None]
    if since is not None:
        conditions.append(Alert.received_at >= since)
    if until is not None:
        conditions.append(Alert.received_at < until)
    where = and_(True, *conditions)
    total = (await conn.execute(select(func.count()).select_from(Alert).where(where))).scalar_one()
    query = (
        select(Alert.__table__).where(where).order_by(Alert.received_at.desc(), Alert.id).limit(limit).offset(offset)
    )
    return [Alert(**row._mapping) for row in await conn.execute(query)], total


async def get_alert(conn: AsyncConnection, *, alert_id: uuid.UUID) -> Alert | None:
    """One alert by id, or None."""
    row = (await conn.execute(select(Alert.__table__).where(Alert.id == alert_id))).first()
    return Alert(**row._mapping) if row else None


async def list_integrations(
    conn: AsyncConnection, *, include_revoked: bool, limit: int, offset: int
) -> tuple[list[Integration], int]:
    """One page of the integrations, oldest first, and how many there are;
    revoked ones only when asked."""
    where = true() if include_revoked else Integration.revoked_at.is_(None)
    query = select(Integration.__table__).where(where).order_by(Integration.created_at, Integration.id)
    rows = await conn.execute(query.limit(limit).offset(offset))
    total = (await conn.execute(select(func.count()).select_from(Integration).where(where))).scalar_one()
    return [Integration(**row._mapping) for row in rows], total


async def insert_integration(conn: AsyncConnection, *, values: dict[str, Any]) -> None:
    """Store a new integration."""
    await conn.execute(insert(Integration), [values])


async def revoke_integration(conn: AsyncConnection, *, integration_id: uuid.UUID, now: datetime) -> Integration | None:
    """Mark an integration revoked; None when there is no such integration."""
    await conn.execute(
        update(Integration)
        .where(Integration.id == integration_id, Integration.revoked_at.is_(None))
        .values(revoked_at=now)
    )
    row = (await conn.execute(select(Integration.__table__).where(Integration.id == integration_id))).first()
    return Integration(**row._mapping) if row else None


async def any_integration(conn: AsyncConnection) -> bool:
    """True when at least one integration exists."""
    return bool((await conn.execute(select(exists().where(Integration.id.is_not(None))))).scalar())
