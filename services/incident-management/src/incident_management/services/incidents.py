"""Use cases behind the incident API: create, change (status, assignee, note), notes."""

import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from incident_management.db import queries
from incident_management.domain.state import InvalidTransition, Lifecycle, Status, is_paging, transition
from platform_common.errors import Conflict, NotFound
from platform_db.models import Incident, IncidentNote

STATUS_EVENTS = {
    Status.ACKNOWLEDGED: "Acknowledged",
    Status.IN_PROGRESS: "Work started",
    Status.RESOLVED: "Resolved",
}


@dataclass(frozen=True)
class Outcome:
    """What a change did, so the route can report metrics once the transaction committed."""

    incident: Incident
    created: bool = False
    mtta_seconds: float | None = None
    mttr_seconds: float | None = None
    paged: bool = False


def assignment_step(version: int) -> str:
    """Step key of the page that tells a manually chosen assignee: one per assignment."""
    return f"assigned-v{version}"


async def _require(session: AsyncSession, incident_id: uuid.UUID) -> Incident:
    incident = await queries.get_incident(session, incident_id=incident_id)
    if incident is None:
        raise NotFound(f"Incident {incident_id} not found")
    return incident


async def create_incident(
    session: AsyncSession,
    *,
    incident_id: uuid.UUID | None,
    title: str,
    service: str,
    severity: str,
    description: str,
    team: str | None,
    assigned_to: str | None,
    actor: str,
    now: datetime,
) -> Outcome:
    """Open an incident through open_incident() (database/sql/open_incident.sql),
    the one way incidents are written. A client-chosen id that exists already
    returns that incident unchanged (`created=False`), so a caller may retry a
    create safely. Without a chosen assignee the engine asks on-call (woken by
    the function's NOTIFY); nothing here waits for another service."""
    incident_id = incident_id or uuid.uuid4()
    created = await queries.open_incident(
        session,
        incident_id=incident_id,
        title=title,
        description=description,
        service=service,
        team=team,
        severity=severity,
        actor=actor,
        now=now,
    )
    if not created:
        return Outcome(await _require(session, incident_id))
    paged = False
    if assigned_to is not None:
        await session.execute(
            update(Incident)
            .where(Incident.id == incident_id)
            .values(assigned_to=assigned_to, needs_assignment=False, updated_at=now)
        )
        await queries.record(
            session,
            incident_id=incident_id,
            event_type="assigned",
            actor=actor,
            message=f"Assigned to {assigned_to}",
            data={"assigned_to": assigned_to},
            now=now,
        )
        paged = await queries.enqueue_page(
            session,
            incident_id=incident_id,
            step_key=assignment_step(1),
            recipient=assigned_to,
            event="triggered",
            now=now,
        )
    return Outcome(await _require(session, incident_id), created=True, paged=paged)


async def change_incident(
    session: AsyncSession,
    *,
    incident_id: uuid.UUID,
    status: Status | None,
    assign: bool,
    assigned_to: str | None,
    note: str | None,
    actor: str,
    expected_version: int | None,
    now: datetime,
) -> Outcome:
    """Apply a responder's change. Status and assignee go through an optimistic
    version check: of two concurrent changes one wins, the other gets 409 with
    the current state."""
    incident = await _require(session, incident_id)
    if expected_version is not None and expected_version != incident.version:
        raise Conflict(
            f"The incident changed since version {expected_version}",
            current_status=incident.status,
            version=incident.version,
        )
    # Read before the UPDATE below: it refreshes `incident` in place.
    previous_status, previous_assignee, current_version = incident.status, incident.assigned_to, incident.version
    values: dict[str, object] = {}
    lifecycle = None
    if status is not None:
        current = Lifecycle(
            status=Status(incident.status),
            created_at=incident.created_at,
            acknowledged_at=incident.acknowledged_at,
            resolved_at=incident.resolved_at,
            mtta_seconds=incident.mtta_seconds,
            mttr_seconds=incident.mttr_seconds,
        )
        try:
            lifecycle = transition(current, status, now)
        except InvalidTransition as exc:
            raise Conflict(str(exc), current_status=incident.status, version=incident.version) from exc
        values |= {
            "status": lifecycle.status.value,
            "acknowledged_at": lifecycle.acknowledged_at,
            "resolved_at": lifecycle.resolved_at,
            "mtta_seconds": lifecycle.mtta_seconds,
            "mttr_seconds": lifecycle.mttr_seconds,
        }
        if not is_paging(lifecycle.status):
            values["next_escalation_at"] = None  # a response stops escalation
        if lifecycle.status is Status.RESOLVED:
            values["needs_assignment"] = False  # nobody needs to own a resolved incident
    reassigned = assign and assigned_to != previous_assignee
    if reassigned:
        values["assigned_to"] = assigned_to
        if assigned_to is not None:
            values["needs_assignment"] = False  # a person chose; on-call lookup no longer decides
    new_version = current_version
    if values:
        new_version = current_version + 1
        result = await session.execute(
            update(Incident)
            .where(Incident.id == incident_id, Incident.version == current_version)
            .values(**values, version=new_version, updated_at=now)
        )
        if result.rowcount != 1:
            latest = await _require(session, incident_id)
            raise Conflict(
                "The incident was changed by someone else at the same time; reload and retry",
                current_status=latest.status,
                version=latest.version,
            )
    elif note is not None:
        await session.execute(update(Incident).where(Incident.id == incident_id).values(updated_at=now))

    if lifecycle is not None:
        cancelled = 0
        if not is_paging(lifecycle.status):
            cancelled = await queries.cancel_pending_pages(session, incident_id=incident_id, now=now)
        data: dict[str, object] = {"from": previous_status, "to": lifecycle.status.value}
        if lifecycle.mtta_seconds is not None and previous_status == Status.OPEN:
            data["mtta_seconds"] = lifecycle.mtta_seconds
        if lifecycle.status is Status.RESOLVED:
            data["mttr_seconds"] = lifecycle.mttr_seconds
        if cancelled:
            data["pages_cancelled"] = cancelled
        await queries.record(
            session,
            incident_id=incident_id,
            event_type=lifecycle.status.value,
            actor=actor,
            message=f"{STATUS_EVENTS[lifecycle.status]} by {actor}",
            data=data,
            now=now,
        )
    paged = False
    if reassigned:
        await queries.record(
            session,
            incident_id=incident_id,
            event_type="assigned" if assigned_to else "unassigned",
            actor=actor,
            message=f"Assigned to {assigned_to} by {actor}" if assigned_to else f"Unassigned by {actor}",
            data={"assigned_to": assigned_to, "previous": previous_assignee},
            now=now,
        )
        final_status = lifecycle.status if lifecycle else Status(previous_status)
        if assigned_to is not None and final_status is not Status.RESOLVED:
            paged = await queries.enqueue_page(
                session,
                incident_id=incident_id,
                step_key=assignment_step(new_version),
                recipient=assigned_to,
                event="triggered",
                now=now,
            )
    if note is not None:
        await _add_note(session, incident_id=incident_id, author=actor, body=note, now=now)
    changed = await _require(session, incident_id)
    opened_now = lifecycle is not None and previous_status == Status.OPEN
    return Outcome(
        changed,
        mtta_seconds=lifecycle.mtta_seconds if opened_now and lifecycle else None,
        mttr_seconds=lifecycle.mttr_seconds if lifecycle and lifecycle.status is Status.RESOLVED else None,
        paged=paged,
    )


async def _add_note(
    session: AsyncSession, *, incident_id: uuid.UUID, author: str, body: str, now: datetime
) -> IncidentNote:
    note = IncidentNote(id=uuid.uuid4(), incident_id=incident_id, author=author, body=body, created_at=now)
    session.add(note)
    preview = body if len(body) <= 200 else body[:197] + "..."
    await queries.record(
        session,
        incident_id=incident_id,
        event_type="note_added",
        actor=author,
        message=f"Note by {author}: {preview}",
        data={"note_id": str(note.id)},
        now=now,
    )
    return note


async def add_note(
    session: AsyncSession, *, incident_id: uuid.UUID, author: str, body: str, now: datetime
) -> IncidentNote:
    """Add a note (allowed on resolved incidents too: postmortem findings)."""
    await _require(session, incident_id)
    await session.execute(update(Incident).where(Incident.id == incident_id).values(updated_at=now))
    return await _add_note(session, incident_id=incident_id, author=author, body=body, now=now)
