"""Reads and writes of incident rows. Keyword-only; none of them commits."""

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Select, and_, case, func, or_, select, text, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from incident_management.db.alerts import AlertEntry, alert_entries
from incident_management.domain.actor import Actor
from incident_management.domain.escalation import page_key
from incident_management.domain.state import Status
from platform_common import queue
from platform_db.enums import SEVERITIES
from platform_db.models import Incident, IncidentNote, Page, TimelineEntry

SEVERITY_RANK = {severity: rank for rank, severity in enumerate(SEVERITIES)}
SORTS = {
    "created_at": Incident.created_at,
    "updated_at": Incident.updated_at,
    "severity": case(SEVERITY_RANK, value=Incident.severity, else_=99),
}


async def get_incident(session: AsyncSession, *, incident_id: uuid.UUID, for_update: bool = False) -> Incident | None:
    """The incident, fresh from the database (never a stale identity-map copy)."""
    query = select(Incident).where(Incident.id == incident_id).execution_options(populate_existing=True)
    if for_update:
        query = query.with_for_update()
    return (await session.execute(query)).scalar_one_or_none()


def _filtered(
    query: Select[Any],
    *,
    statuses: Sequence[str],
    severities: Sequence[str],
    service: str | None,
    team: str | None,
    assignee: str | None,
    created_after: datetime | None,
    created_before: datetime | None,
) -> Select[Any]:
    if statuses:
        query = query.where(Incident.status.in_(statuses))
    if severities:
        query = query.where(Incident.severity.in_(severities))
    if service:
        query = query.where(Incident.service == service)
    if team:
        query = query.where(Incident.team == team)
    if assignee == "none":
        query = query.where(Incident.assigned_to.is_(None))
    elif assignee:
        query = query.where(Incident.assigned_to == assignee)
    if created_after:
        query = query.where(Incident.created_at >= created_after)
    if created_before:
        query = query.where(Incident.created_at < created_before)
    return query


async def list_incidents(
    session: AsyncSession,
    *,
    statuses: Sequence[str] = (),
    severities: Sequence[str] = (),
    service: str | None = None,
    team: str | None = None,
    assignee: str | None = None,
    created_after: datetime | None = None,
    created_before: datetime | None = None,
    sort: str = "-created_at",
    limit: int = 50,
    offset: int = 0,
) -> tuple[list[Incident], int]:
    """One page of incidents and the total matching. The id breaks ties so pages never overlap."""
    filters = {
        "statuses": statuses,
        "severities": severities,
        "service": service,
        "team": team,
        "assignee": assignee,
        "created_after": created_after,
        "created_before": created_before,
    }
    descending = sort.startswith("-")
    column = SORTS[sort.lstrip("-")]
    order = (column.desc(), Incident.id.desc()) if descending else (column.asc(), Incident.id.asc())
    rows = await session.execute(_filtered(select(Incident), **filters).order_by(*order).limit(limit).offset(offset))
    total = await session.scalar(_filtered(select(func.count()).select_from(Incident), **filters))
    return list(rows.scalars()), int(total or 0)


async def open_incident(
    session: AsyncSession,
    *,
    incident_id: uuid.UUID,
    title: str,
    description: str,
    service: str,
    team: str | None,
    severity: str,
    actor: Actor,
    now: datetime,
) -> bool:
    """Insert the incident and its 'created' entry, and NOTIFY the engine; False if the id exists.
    The function records the actor by name (its signature predates actor ids)."""
    result = await session.execute(
        text("SELECT open_incident(:id, :title, :description, :service, :team, :severity, 'api', :actor, :now)"),
        {
            "id": incident_id,
            "title": title,
            "description": description,
            "service": service,
            "team": team,
            "severity": severity,
            "actor": actor.name,
            "now": now,
        },
    )
    return bool(result.scalar())


async def acting_user(session: AsyncSession, *, user_id: uuid.UUID) -> Actor | None:
    """The user as they are now, if they may act on incidents (a responder or
    admin, not disabled); None otherwise, or when there is no such user. Through
    acting_user() (database/sql/authenticate_credential.sql), oncall-service's
    published way to ask, not its tables."""
    row = (await session.execute(text("SELECT * FROM acting_user(:id)"), {"id": user_id})).first()
    return Actor(row.name, row.user_id) if row else None


async def record(
    session: AsyncSession,
    *,
    incident_id: uuid.UUID,
    event_type: str,
    actor: Actor,
    message: str,
    now: datetime,
    data: dict[str, Any] | None = None,
) -> None:
    """Append one timeline entry (the table refuses edits)."""
    session.add(
        TimelineEntry(
            incident_id=incident_id,
            event_type=event_type,
            actor=actor.name,
            actor_id=actor.id,
            message=message,
            data=data or {},
            created_at=now,
        )
    )


async def timeline(session: AsyncSession, *, incident_id: uuid.UUID) -> list[TimelineEntry | AlertEntry]:
    """The incident's own entries and the alerts that opened or joined it, oldest first."""
    query = select(TimelineEntry).where(TimelineEntry.incident_id == incident_id).order_by(TimelineEntry.id)
    entries: list[TimelineEntry | AlertEntry] = list((await session.execute(query)).scalars())
    entries += await alert_entries(session, incident_id=incident_id)
    # Stable: entries of one moment keep the order they were written in.
    return sorted(entries, key=lambda entry: entry.created_at)


async def notes(session: AsyncSession, *, incident_id: uuid.UUID) -> list[IncidentNote]:
    """An incident's notes, oldest first."""
    query = (
        select(IncidentNote)
        .where(IncidentNote.incident_id == incident_id)
        .order_by(IncidentNote.created_at, IncidentNote.id)
    )
    return list((await session.execute(query)).scalars())


async def pages(session: AsyncSession, *, incident_id: uuid.UUID) -> list[Page]:
    """An incident's pages, oldest first."""
    query = select(Page).where(Page.incident_id == incident_id).order_by(Page.created_at, Page.recipient)
    return list((await session.execute(query)).scalars())


async def enqueue_page(
    session: AsyncSession,
    *,
    incident_id: uuid.UUID,
    step_key: str,
    recipient: str,
    event: str,
    now: datetime,
    contact: dict[str, Any] | None = None,
) -> bool:
    """Put one page in the outbox unless this (incident, step, user) already has one. True if new.
    `contact`: the recipient's contact methods and mutes if known (None: looked up before sending)."""
    statement = (
        insert(Page)
        .values(
            id=uuid.uuid4(),
            incident_id=incident_id,
            step_key=step_key,
            recipient=recipient,
            event=event,
            idempotency_key=page_key(str(incident_id), step_key, recipient),
            status="pending",
            attempts=0,
            next_attempt_at=now,
            contact=contact,
            notifications=[],
            tracking=False,
            created_at=now,
            updated_at=now,
        )
        .on_conflict_do_nothing()
    )
    result = await session.execute(statement)
    return bool(result.rowcount)


async def cancel_pending_pages(session: AsyncSession, *, incident_id: uuid.UUID, now: datetime) -> int:
    """Pages not yet handed over must not go out once someone has responded."""
    result = await session.execute(
        update(Page)
        .where(Page.incident_id == incident_id, Page.status == "pending")
        .values(status="cancelled", updated_at=now, last_error="incident no longer unacknowledged")
    )
    return int(result.rowcount or 0)


async def claim_unassigned(
    session: AsyncSession, *, now: datetime, lease_until: datetime, limit: int, incident_id: uuid.UUID | None = None
) -> list[Incident]:
    """Incidents waiting for an on-call lookup whose retry time has come (ingestion's fallback rows too)."""
    condition = and_(
        Incident.needs_assignment.is_(True),
        or_(Incident.next_assignment_at.is_(None), Incident.next_assignment_at <= now),
    )
    if incident_id is not None:
        condition = and_(condition, Incident.id == incident_id)
    return await queue.claim(
        session,
        Incident,
        due=condition,
        order_by=[Incident.created_at],
        lease=Incident.claimed_until,
        now=now,
        lease_until=lease_until,
        limit=limit,
    )


async def claim_due_escalations(
    session: AsyncSession, *, now: datetime, lease_until: datetime, limit: int
) -> list[Incident]:
    """Unacknowledged incidents whose escalation timer has run out."""
    condition = and_(
        Incident.status == "open",
        Incident.needs_assignment.is_(False),
        Incident.next_escalation_at.is_not(None),
        Incident.next_escalation_at <= now,
    )
    return await queue.claim(
        session,
        Incident,
        due=condition,
        order_by=[Incident.next_escalation_at],
        lease=Incident.claimed_until,
        now=now,
        lease_until=lease_until,
        limit=limit,
    )


async def release(session: AsyncSession, *, incident_id: uuid.UUID) -> None:
    """Give up this process's lease on the incident."""
    await queue.finish(session, Incident, key=incident_id, values={"claimed_until": None})


async def claim_pages(session: AsyncSession, *, now: datetime, lease_until: datetime, limit: int) -> list[Page]:
    """Pages due for sending. The lease is `next_attempt_at` itself: a claimed page
    is not due again until it runs out (or the send is recorded)."""
    return await queue.claim(
        session,
        Page,
        due=Page.status == "pending",
        order_by=[Page.created_at],
        lease=Page.next_attempt_at,
        now=now,
        lease_until=lease_until,
        limit=limit,
    )


async def get_page(session: AsyncSession, *, page_id: uuid.UUID) -> Page | None:
    """One page by id, or None."""
    query = select(Page).where(Page.id == page_id).with_for_update().execution_options(populate_existing=True)
    return (await session.execute(query)).scalar_one_or_none()


async def page_by_key(session: AsyncSession, *, incident_id: uuid.UUID, idempotency_key: str) -> Page | None:
    """The page notification-service knows by this key, locked: results of one page are folded in one at a time."""
    query = (
        select(Page)
        .where(Page.incident_id == incident_id, Page.idempotency_key == idempotency_key)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    return (await session.execute(query)).scalar_one_or_none()


async def summary(
    session: AsyncSession, *, created_after: datetime, created_before: datetime, service: str | None
) -> dict[str, Any]:
    """Of the incidents created in the range: counts by status (`status_<s>`) and
    severity (`sev_<s>`), and MTTA/MTTR count, mean, median and 95th percentile
    (`mtta_p50`, ...; percentile_cont interpolates between closest ranks). One
    query, so PostgreSQL aggregates and only one row travels."""
    columns: list[Any] = [func.count().filter(Incident.status == s.value).label(f"status_{s.value}") for s in Status]
    columns += [func.count().filter(Incident.severity == s).label(f"sev_{s}") for s in SEVERITIES]
    for name, column in (("mtta", Incident.mtta_seconds), ("mttr", Incident.mttr_seconds)):
        columns += [
            func.count(column).label(f"{name}_count"),
            func.avg(column).label(f"{name}_mean"),
            func.percentile_cont(0.5).within_group(column).label(f"{name}_p50"),
            func.percentile_cont(0.95).within_group(column).label(f"{name}_p95"),
        ]
    query = select(*columns).where(Incident.created_at >= created_after, Incident.created_at < created_before)
    if service:
        query = query.where(Incident.service == service)
    return dict((await session.execute(query)).one()._mapping)


async def daily(
    session: AsyncSession,
    *,
    created_after: datetime,
    created_before: datetime,
    timezone: str,
    service: str | None,
    severity: str | None,
) -> list[dict[str, Any]]:
    """Per calendar day (in `timezone`) of the incidents created in the range: the
    count, counts by severity, and MTTA/MTTR count, mean and median. One query over
    the created_at range (ix_incidents_created_at, or ix_incidents_service_created_at
    with a service); days without incidents are absent."""
    day = func.date(func.timezone(timezone, Incident.created_at)).label("day")
    columns: list[Any] = [day, func.count().label("total")]
    columns += [func.count().filter(Incident.severity == s).label(f"sev_{s}") for s in SEVERITIES]
    for name, column in (("mtta", Incident.mtta_seconds), ("mttr", Incident.mttr_seconds)):
        columns += [
            func.count(column).label(f"{name}_count"),
            func.avg(column).label(f"{name}_mean"),
            func.percentile_cont(0.5).within_group(column).label(f"{name}_p50"),
        ]
    query = (
        select(*columns)
        .where(Incident.created_at >= created_after, Incident.created_at < created_before)
        .group_by(day)
        .order_by(day)
    )
    if service:
        query = query.where(Incident.service == service)
    if severity:
        query = query.where(Incident.severity == severity)
    return [dict(row._mapping) for row in (await session.execute(query)).all()]


async def timeline_counts(session: AsyncSession, *, incident_id: uuid.UUID) -> dict[str, int]:
    """How many timeline entries of each type the incident has."""
    query = (
        select(TimelineEntry.event_type, func.count())
        .where(TimelineEntry.incident_id == incident_id)
        .group_by(TimelineEntry.event_type)
    )
    return {key: int(count) for key, count in (await session.execute(query)).all()}
