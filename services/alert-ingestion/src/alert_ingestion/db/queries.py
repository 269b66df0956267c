"""Keyword-only queries on one connection. None of them commits: the use case
owns the transaction."""

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import and_, exists, func, insert, select, text, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncConnection

from alert_ingestion.db.models import Alert, IncidentAction, Integration, incident_timeline, incidents

OPEN = Alert.status != "resolved"

# hashtextextended gives a 64-bit key; xact locks end with the transaction,
# so a crash can never leave one behind.
_ADVISORY_LOCK = text("SELECT pg_advisory_xact_lock(hashtextextended(:key, 0))")


async def advisory_lock(conn: AsyncConnection, *, key: str) -> None:
    """PostgreSQL only: serialize transactions that share `key` until commit."""
    await conn.execute(_ADVISORY_LOCK, {"key": key})


async def find_integration(conn: AsyncConnection, *, key_hash: str) -> Integration | None:
    row = (await conn.execute(select(Integration.__table__).where(Integration.key_hash == key_hash))).first()
    return Integration(**row._mapping) if row else None


async def open_incident_of_fingerprint(conn: AsyncConnection, *, scope: str, fingerprint: str) -> uuid.UUID | None:
    """The unresolved incident an unresolved alert of this fingerprint belongs to."""
    query = (
        select(Alert.incident_id)
        .join(incidents, incidents.c.id == Alert.incident_id)
        .where(Alert.dedup_scope == scope, Alert.fingerprint == fingerprint, OPEN, incidents.c.status != "resolved")
        .order_by(Alert.received_at.desc())
        .limit(1)
    )
    return (await conn.execute(query)).scalar()


def _resolve_pending(incident_id: Any) -> Any:
    return exists().where(
        IncidentAction.incident_id == incident_id,
        IncidentAction.action == "resolve",
        IncidentAction.status == "pending",
    )


async def correlation_candidate(
    conn: AsyncConnection, *, service: str, severity: str, since: datetime
) -> uuid.UUID | None:
    """The newest unresolved incident of this service and severity opened at or
    after `since`, unless ingestion is already resolving it."""
    query = (
        select(incidents.c.id)
        .where(
            incidents.c.service == service,
            incidents.c.severity == severity,
            incidents.c.status != "resolved",
            incidents.c.created_at >= since,
            ~_resolve_pending(incidents.c.id),
        )
        .order_by(incidents.c.created_at.desc())
        .limit(1)
    )
    return (await conn.execute(query)).scalar()


async def insert_fallback_incident(
    conn: AsyncConnection,
    *,
    incident_id: uuid.UUID,
    title: str,
    description: str,
    service: str,
    severity: str,
    now: datetime,
) -> bool:
    """Open the incident directly (incident-management down or slow), flagged
    for it to assign and page later. False when the id already exists: the API
    call did land after all."""
    values = {
        "id": incident_id,
        "title": title,
        "description": description,
        "service": service,
        "severity": severity,
        "status": "open",
        "origin": "ingestion_fallback",
        "needs_assignment": True,
        "alert_count": 0,
        "created_at": now,
        "updated_at": now,
    }
    dialect_insert = pg_insert if conn.dialect.name == "postgresql" else sqlite_insert
    result = await conn.execute(dialect_insert(incidents).values(values).on_conflict_do_nothing())
    return result.rowcount == 1


async def insert_alert(conn: AsyncConnection, *, values: dict[str, Any]) -> None:
    await conn.execute(insert(Alert), [values])


async def count_alert(conn: AsyncConnection, *, incident_id: uuid.UUID, now: datetime) -> None:
    """Atomic increment: exact under any concurrency (the row lock orders the writers)."""
    await conn.execute(
        update(incidents)
        .where(incidents.c.id == incident_id)
        .values(alert_count=incidents.c.alert_count + 1, updated_at=now)
    )


async def append_timeline(
    conn: AsyncConnection, *, incident_id: uuid.UUID, event_type: str, message: str, data: dict[str, Any], now: datetime
) -> None:
    await conn.execute(
        insert(incident_timeline).values(
            incident_id=incident_id,
            event_type=event_type,
            actor="alert-ingestion",
            message=message,
            data=data,
            created_at=now,
        )
    )


async def open_alerts_of_fingerprint(
    conn: AsyncConnection, *, scope: str, fingerprint: str, statuses: Sequence[str]
) -> list[tuple[uuid.UUID, uuid.UUID | None]]:
    """(alert id, incident id) of the alerts of a fingerprint in the given statuses."""
    query = select(Alert.id, Alert.incident_id).where(
        Alert.dedup_scope == scope, Alert.fingerprint == fingerprint, Alert.status.in_(statuses)
    )
    return [(row.id, row.incident_id) for row in await conn.execute(query)]


async def set_alert_status(
    conn: AsyncConnection, *, alert_ids: Sequence[uuid.UUID], status: str, now: datetime
) -> None:
    stamp = {"resolved_at": now} if status == "resolved" else {"acknowledged_at": now}
    await conn.execute(update(Alert).where(Alert.id.in_(alert_ids)).values(status=status, **stamp))


async def lock_incident(conn: AsyncConnection, *, incident_id: uuid.UUID) -> str | None:
    """The incident's status, with its row locked (PostgreSQL) so alert counting
    and resolving cannot interleave."""
    query = select(incidents.c.status).where(incidents.c.id == incident_id)
    if conn.dialect.name == "postgresql":
        query = query.with_for_update()
    return (await conn.execute(query)).scalar()


async def has_open_alerts(conn: AsyncConnection, *, incident_id: uuid.UUID) -> bool:
    query = select(exists().where(Alert.incident_id == incident_id, OPEN))
    return bool((await conn.execute(query)).scalar())


async def enqueue_incident_action(
    conn: AsyncConnection, *, incident_id: uuid.UUID, action: str, now: datetime
) -> uuid.UUID:
    action_id = uuid.uuid4()
    await conn.execute(
        insert(IncidentAction).values(
            id=action_id,
            incident_id=incident_id,
            action=action,
            status="pending",
            attempts=0,
            next_attempt_at=now,
            created_at=now,
            updated_at=now,
        )
    )
    return action_id


async def claim_actions(
    conn: AsyncConnection, *, now: datetime, lease_until: datetime, limit: int, ids: Sequence[uuid.UUID] | None = None
) -> list[IncidentAction]:
    """Take due pending actions for this worker by pushing their next attempt to
    `lease_until`; SKIP LOCKED lets replicas share the queue without waiting."""
    query = select(IncidentAction.__table__).where(
        IncidentAction.status == "pending", IncidentAction.next_attempt_at <= now
    )
    if ids is not None:
        query = query.where(IncidentAction.id.in_(ids))
    query = query.order_by(IncidentAction.next_attempt_at).limit(limit)
    if conn.dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    rows = [IncidentAction(**row._mapping) for row in await conn.execute(query)]
    if rows:
        await conn.execute(
            update(IncidentAction)
            .where(IncidentAction.id.in_([row.id for row in rows]))
            .values(next_attempt_at=lease_until, updated_at=now)
        )
    return rows


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
    await conn.execute(
        update(IncidentAction)
        .where(IncidentAction.id == action_id)
        .values(status=status, attempts=attempts, next_attempt_at=next_attempt_at, last_error=error, updated_at=now)
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
    row = (await conn.execute(select(Alert.__table__).where(Alert.id == alert_id))).first()
    return Alert(**row._mapping) if row else None


async def list_integrations(conn: AsyncConnection, *, include_revoked: bool) -> list[Integration]:
    query = select(Integration.__table__).order_by(Integration.created_at, Integration.id)
    if not include_revoked:
        query = query.where(Integration.revoked_at.is_(None))
    return [Integration(**row._mapping) for row in await conn.execute(query)]


async def insert_integration(conn: AsyncConnection, *, values: dict[str, Any]) -> None:
    await conn.execute(insert(Integration), [values])


async def revoke_integration(conn: AsyncConnection, *, integration_id: uuid.UUID, now: datetime) -> Integration | None:
    await conn.execute(
        update(Integration)
        .where(Integration.id == integration_id, Integration.revoked_at.is_(None))
        .values(revoked_at=now)
    )
    row = (await conn.execute(select(Integration.__table__).where(Integration.id == integration_id))).first()
    return Integration(**row._mapping) if row else None


async def any_integration(conn: AsyncConnection) -> bool:
    return bool((await conn.execute(select(exists().where(Integration.id.is_not(None))))).scalar())
