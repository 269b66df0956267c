"""Keyword-only queries on one session. None of them commits: the route or the
worker cycle owns the transaction. (The hot path's writes go through
db/alert_writer.py instead.)"""

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Row, exists, func, select, text
from sqlalchemy.dialects.postgresql import distinct_on
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from platform_common import queue
from platform_db.models import Alert, IncidentAction, Integration

OPEN = Alert.status != "resolved"


async def find_integration(session: AsyncSession, *, key_hash: str) -> Integration | None:
    """The integration with this key hash, revoked or not."""
    return await session.scalar(select(Integration).where(Integration.key_hash == key_hash))


async def has_open_alerts(session: AsyncSession, *, incident_id: uuid.UUID) -> bool:
    """True while any alert of the incident is still open."""
    return bool(await session.scalar(select(exists().where(Alert.incident_id == incident_id, OPEN))))


async def opening_alerts(session: AsyncSession, *, incident_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, Row[Any]]:
    """What each incident is opened with, from the alert that reserved it (the one
    ingest_alerts() answered 'created'): its service, severity, message and
    received_at, by incident id. Those columns only: the whole row (labels and payload
    decoded from JSON) cost a tenth of this process's time at 50 new incidents a second."""
    query = select(Alert.incident_id, Alert.service, Alert.severity, Alert.message, Alert.received_at).where(
        Alert.incident_id.in_(incident_ids), Alert.action == "created"
    )
    return {row.incident_id: row for row in await session.execute(query)}


async def acting_integrations(
    session: AsyncSession, *, incident_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, dict[str, str]]:
    """The integration each incident's change is recorded under, by incident id: that of
    the incident's most recently received alert that came with one (the one whose trigger,
    acknowledge or resolve is being sent); absent for alerts sent before keys were required."""
    query = (
        select(Alert.incident_id, Integration.id, Integration.name)
        .join(Integration, Alert.integration_id == Integration.id)
        .where(Alert.incident_id.in_(incident_ids))
        .order_by(Alert.incident_id, Alert.received_at.desc())
        .ext(distinct_on(Alert.incident_id))
    )
    return {row.incident_id: {"id": str(row.id), "name": row.name} for row in await session.execute(query)}


async def open_incident(
    session: AsyncSession,
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
    opened = await session.scalar(
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
    return bool(opened)


async def claim_actions(
    session: AsyncSession,
    *,
    now: datetime,
    lease_until: datetime,
    limit: int,
    ids: Sequence[uuid.UUID] | None = None,
    incident_ids: Sequence[uuid.UUID] | None = None,
) -> list[IncidentAction]:
    """Take due pending actions for this worker (or just `ids`, or just those of
    these incidents) by pushing their next attempt to `lease_until`; SKIP LOCKED
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
    if incident_ids is not None:
        due.append(IncidentAction.incident_id.in_(incident_ids))
    # The lease is `next_attempt_at` itself: a claimed action is not due again until it runs out.
    return await queue.claim(
        session,
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
    session: AsyncSession,
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
        session,
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
    session: AsyncSession,
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
    total = await session.scalar(select(func.count()).select_from(Alert).where(*conditions)) or 0
    rows = await session.scalars(
        select(Alert).where(*conditions).order_by(Alert.received_at.desc(), Alert.id).limit(limit).offset(offset)
    )
    return list(rows), total


async def get_alert(session: AsyncSession, *, alert_id: uuid.UUID) -> Alert | None:
    """One alert by id, or None."""
    # Not session.get(): the primary key is (id, received_at), the partition key (migration 0019_alert_partitions).
    return await session.scalar(select(Alert).where(Alert.id == alert_id))


async def list_integrations(
    session: AsyncSession, *, include_revoked: bool, limit: int, offset: int
) -> tuple[list[Integration], int]:
    """One page of the integrations, oldest first, and how many there are;
    revoked ones only when asked."""
    conditions = [] if include_revoked else [Integration.revoked_at.is_(None)]
    total = await session.scalar(select(func.count()).select_from(Integration).where(*conditions)) or 0
    query = select(Integration).where(*conditions).order_by(Integration.created_at, Integration.id)
    rows = await session.scalars(query.limit(limit).offset(offset))
    return list(rows), total


async def insert_integration(session: AsyncSession, *, integration: Integration) -> None:
    """Store a new integration (flushed, so a clash raises here, inside the caller's transaction)."""
    session.add(integration)
    await session.flush()


async def revoke_integration(session: AsyncSession, *, integration_id: uuid.UUID, now: datetime) -> Integration | None:
    """Mark an integration revoked (once: a second revocation keeps the first time); None when there is none."""
    integration = await session.get(Integration, integration_id, with_for_update=True)
    if integration is not None and integration.revoked_at is None:
        integration.revoked_at = now
    return integration


async def any_integration(session: AsyncSession) -> bool:
    """True when at least one integration exists."""
    return bool(await session.scalar(select(exists().where(Integration.id.is_not(None)))))
