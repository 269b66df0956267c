"""Use cases behind the incident API: create, change (status, assignee, note), notes."""

import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from incident_management.db import queries
from incident_management.domain.actor import Actor
from incident_management.domain.state import InvalidTransition, Lifecycle, Status, is_paging, transition
from platform_common.errors import Conflict, NotFound, Unprocessable
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


async def _require_assignable(session: AsyncSession, assigned_to: uuid.UUID) -> None:
    """422 unless `assigned_to` names a user who may act on incidents: an
    assignee is paged and expected to answer, so a made-up id, a viewer or a
    disabled user would leave the incident with nobody."""
    if await queries.acting_user(session, user_id=assigned_to) is None:
        raise Unprocessable(
            [
                {
                    "loc": ["body", "assigned_to"],
                    "msg": f"no user {assigned_to} who may be assigned: a responder or admin, not disabled",
                    "type": "assignee",
                }
            ]
        )


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
    assigned_to: uuid.UUID | None,
    actor: Actor,
    now: datetime,
) -> Outcome:
    """Open an incident through open_incident() (database/sql/0006_one_owner/open_incident.sql),
    the one way incidents are written. A chosen id that exists already returns
    that incident unchanged (`created=False`), so the platform may retry a
    create safely. A chosen assignee must be a user who may act; without one
    the engine asks on-call (woken by the function's NOTIFY); nothing here
    waits for another service."""
    if assigned_to is not None:
        await _require_assignable(session, assigned_to)
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
        assignee = str(assigned_to)
        await session.execute(
            update(Incident)
            .where(Incident.id == incident_id)
            .values(assigned_to=assignee, needs_assignment=False, updated_at=now)
        )
        await queries.record(
            session,
            incident_id=incident_id,
            event_type="assigned",
            actor=actor,
            message=f"Assigned to {assignee}",
            data={"assigned_to": assignee},
            now=now,
        )
        paged = await queries.enqueue_page(
            session,
            incident_id=incident_id,
            step_key=assignment_step(1),
            recipient=assignee,
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
    assigned_to: uuid.UUID | None,
    note: str | None,
    actor: Actor,
    expected_version: int | None,
    now: datetime,
) -> Outcome:
    """Apply a responder's change. Status and assignee go through an optimistic
    version check: of two concurrent changes one wins, the other gets 409 with
    the current state. A new assignee must be a user who may act."""
    incident = await _require(session, incident_id)
    _check_version(incident, expected_version)
    # Read before the UPDATE below: it refreshes `incident` in place.
    before = _Before(status=incident.status, assignee=incident.assigned_to, version=incident.version)
    lifecycle = _transition(incident, status, now) if status is not None else None
    assignee = str(assigned_to) if assigned_to is not None else None
    reassigned = assign and assignee != before.assignee
    if reassigned and assigned_to is not None:
        await _require_assignable(session, assigned_to)
    values = _lifecycle_values(lifecycle) if lifecycle else {}
    if reassigned:
        values |= _assignee_values(assignee)
    new_version = before.version
    if values:
        new_version = await _write_versioned(session, incident_id, values, before.version, now)
    elif note is not None:
        await session.execute(update(Incident).where(Incident.id == incident_id).values(updated_at=now))
    if lifecycle is not None:
        await _record_transition(session, incident_id, lifecycle, before.status, actor, now)
    paged = False
    if reassigned:
        final_status = lifecycle.status if lifecycle else Status(before.status)
        paged = await _reassign(session, incident_id, assignee, before.assignee, final_status, new_version, actor, now)
    if note is not None:
        await _add_note(session, incident_id=incident_id, author=actor, body=note, now=now)
    return _outcome(await _require(session, incident_id), lifecycle, before.status, paged)


@dataclass(frozen=True)
class _Before:
    """The incident as the change found it."""

    status: str
    assignee: str | None
    version: int


def _check_version(incident: Incident, expected_version: int | None) -> None:
    """409 when the caller saw another version than the one stored."""
    if expected_version is not None and expected_version != incident.version:
        raise Conflict(
            f"The incident changed since version {expected_version}",
            current_status=incident.status,
            version=incident.version,
        )


def _transition(incident: Incident, status: Status, now: datetime) -> Lifecycle:
    """The incident's lifecycle after moving to `status`; 409 when the state machine refuses it."""
    current = Lifecycle(
        status=Status(incident.status),
        created_at=incident.created_at,
        acknowledged_at=incident.acknowledged_at,
        resolved_at=incident.resolved_at,
        mtta_seconds=incident.mtta_seconds,
        mttr_seconds=incident.mttr_seconds,
    )
    try:
        return transition(current, status, now)
    except InvalidTransition as exc:
        raise Conflict(str(exc), current_status=incident.status, version=incident.version) from exc


def _lifecycle_values(lifecycle: Lifecycle) -> dict[str, object]:
    """Columns a status change sets."""
    values: dict[str, object] = {
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
    return values


def _assignee_values(assigned_to: str | None) -> dict[str, object]:
    """Columns a reassignment sets."""
    values: dict[str, object] = {"assigned_to": assigned_to}
    if assigned_to is not None:
        values["needs_assignment"] = False  # a person chose; on-call lookup no longer decides
    return values


async def _write_versioned(
    session: AsyncSession, incident_id: uuid.UUID, values: dict[str, object], version: int, now: datetime
) -> int:
    """Write `values` only if the row is still at `version`; the new version, or 409 for the loser of a race."""
    new_version = version + 1
    result = await session.execute(
        update(Incident)
        .where(Incident.id == incident_id, Incident.version == version)
        .values(**values, version=new_version, updated_at=now)
    )
    if result.rowcount != 1:
        latest = await _require(session, incident_id)
        raise Conflict(
            "The incident was changed by someone else at the same time; reload and retry",
            current_status=latest.status,
            version=latest.version,
        )
    return new_version


async def _record_transition(
    session: AsyncSession,
    incident_id: uuid.UUID,
    lifecycle: Lifecycle,
    previous_status: str,
    actor: Actor,
    now: datetime,
) -> None:
    """Cancel pages a response makes pointless, and put the transition on the timeline."""
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
        message=f"{STATUS_EVENTS[lifecycle.status]} by {actor.name}",
        data=data,
        now=now,
    )


async def _reassign(
    session: AsyncSession,
    incident_id: uuid.UUID,
    assigned_to: str | None,
    previous: str | None,
    final_status: Status,
    version: int,
    actor: Actor,
    now: datetime,
) -> bool:
    """Put the reassignment on the timeline and page the new assignee (not for a resolved incident).
    True when a page was queued."""
    await queries.record(
        session,
        incident_id=incident_id,
        event_type="assigned" if assigned_to else "unassigned",
        actor=actor,
        message=f"Assigned to {assigned_to} by {actor.name}" if assigned_to else f"Unassigned by {actor.name}",
        data={"assigned_to": assigned_to, "previous": previous},
        now=now,
    )
    if assigned_to is None or final_status is Status.RESOLVED:
        return False
    return await queries.enqueue_page(
        session,
        incident_id=incident_id,
        step_key=assignment_step(version),
        recipient=assigned_to,
        event="triggered",
        now=now,
    )


def _outcome(changed: Incident, lifecycle: Lifecycle | None, previous_status: str, paged: bool) -> Outcome:
    """MTTA only when this change answered an open incident, MTTR only when it resolved one."""
    opened_now = lifecycle is not None and previous_status == Status.OPEN
    return Outcome(
        changed,
        mtta_seconds=lifecycle.mtta_seconds if opened_now and lifecycle else None,
        mttr_seconds=lifecycle.mttr_seconds if lifecycle and lifecycle.status is Status.RESOLVED else None,
        paged=paged,
    )


async def _add_note(
    session: AsyncSession, *, incident_id: uuid.UUID, author: Actor, body: str, now: datetime
) -> IncidentNote:
    note = IncidentNote(
        id=uuid.uuid4(), incident_id=incident_id, author=author.name, author_id=author.id, body=body, created_at=now
    )
    session.add(note)
    preview = body if len(body) <= 200 else body[:197] + "..."
    await queries.record(
        session,
        incident_id=incident_id,
        event_type="note_added",
        actor=author,
        message=f"Note by {author.name}: {preview}",
        data={"note_id": str(note.id)},
        now=now,
    )
    return note


async def add_note(
    session: AsyncSession, *, incident_id: uuid.UUID, author: Actor, body: str, now: datetime
) -> IncidentNote:
    """Add a note (allowed on resolved incidents too: postmortem findings)."""
    await _require(session, incident_id)
    await session.execute(update(Incident).where(Incident.id == incident_id).values(updated_at=now))
    return await _add_note(session, incident_id=incident_id, author=author, body=body, now=now)
