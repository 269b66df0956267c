"""Use cases behind the incident API: open, change (status, assignee, note), notes.
Each runs in the route's transaction; a change reads the incident once and writes
its timeline entries together."""

import uuid
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import partial
from typing import Any, TypeVar

from sqlalchemy.ext.asyncio import AsyncSession

from incident_management.db import pages, queries
from incident_management.domain import rules, timeline
from incident_management.domain.escalation import acknowledgement_deadline
from incident_management.domain.state import InvalidTransition, Lifecycle, Status, is_paging, transition
from incident_management.domain.timeline import Actor, Entry
from platform_common.errors import Conflict, DomainError, NotFound, Unprocessable
from platform_db.models import Incident, IncidentNote


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


async def _require_assignable(session: AsyncSession, assigned_to: uuid.UUID) -> Actor:
    """The user `assigned_to` names; 422 unless they may act on incidents: an
    assignee is paged and expected to answer, so a made-up id, a viewer or a
    disabled user would leave the incident with nobody."""
    assignee = await queries.acting_user(session, user_id=assigned_to)
    if assignee is None:
        raise Unprocessable(
            [
                {
                    "loc": ["body", "assigned_to"],
                    "msg": (
                        f"no user {assigned_to} who may be assigned: only responders and admins (not disabled)"
                        " may act on incidents; a viewer cannot acknowledge or resolve"
                    ),
                    "type": "assignee",
                }
            ]
        )
    return assignee


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
    assignee = await _require_assignable(session, assigned_to) if assigned_to is not None else None
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
    paged = False
    if created and assignee is not None:
        paged = await _assign_at_opening(session, incident_id, assignee, actor, now)
    return Outcome(await _require(session, incident_id), created=created, paged=paged)


T = TypeVar("T")


async def each_alone(
    session: AsyncSession,
    calls: Iterable[Callable[[], Awaitable[T]]],
    *,
    refusals: type[Exception] | tuple[type[Exception], ...] = DomainError,
    before_again: Callable[[], Awaitable[object]] | None = None,
) -> list[T | Exception]:
    """Run each call as it would run alone, in the order given, in the caller's one
    transaction: a refused one (one of `refusals`) rolls back only itself and its
    refusal is its result; the others commit together at the edge. The batch create,
    /bulk, the batch of delivery results and the engine's loops.

    The calls run together in one savepoint first, and only when one is refused are they
    run again, each in a savepoint of its own: two statements and a flush per call were a
    third of the statements a storm of new incidents cost, for refusals that seldom come.
    So a call may run twice; what it does outside the transaction belongs after it, and
    `before_again` reads afresh the rows the calls were given (the rollback expired what
    they changed)."""
    calls = list(calls)
    try:
        async with session.begin_nested():
            return [await call() for call in calls]
    except refusals:
        pass
    if before_again is not None:
        await before_again()
    results: list[T | Exception] = []
    for call in calls:
        try:
            async with session.begin_nested():
                results.append(await call())
        except refusals as refused:
            results.append(refused)
    return results


async def create_incidents(
    session: AsyncSession, *, requests: Sequence[Mapping[str, Any]]
) -> list[Outcome | DomainError]:
    """Open each as create_incident(**request) would alone (an assignee who may not act
    refuses only its own)."""
    return await each_alone(session, (partial(create_incident, session, **request) for request in requests))


async def _assign_at_opening(
    session: AsyncSession, incident_id: uuid.UUID, assignee: Actor, actor: Actor, now: datetime
) -> bool:
    """The assignee chosen at opening owns the incident (on-call is not asked) and is paged."""
    values = {"assigned_to": str(assignee.id), "needs_assignment": False}
    await queries.update_incident(session, incident_id=incident_id, values=values, now=now)
    queries.record(session, incident_id=incident_id, now=now, entries=[timeline.assigned_at_opening(assignee, actor)])
    return await _page_assignee(session, incident_id, assignee, actor, version=1, now=now)


async def change_incident(
    session: AsyncSession,
    *,
    incident_id: uuid.UUID,
    actor: Actor,
    now: datetime,
    status: Status | None = None,
    assign: bool = False,
    assigned_to: uuid.UUID | None = None,
    note: str | None = None,
    expected_version: int | None = None,
) -> Outcome:
    """Apply a responder's change: a status, an assignee (with `assign`; None
    unassigns), a note. Status and assignee go through an optimistic version
    check: of two concurrent changes one wins, the other gets 409 with the
    current state. A new assignee must be a user who may act."""
    incident = await _require(session, incident_id)
    _check_version(incident, expected_version)
    # Read before the UPDATE below: it refreshes `incident` in place.
    before = _Before(status=incident.status, assignee=incident.assigned_to, version=incident.version)
    lifecycle = _transition(incident, status, now) if status is not None else None
    assignee = str(assigned_to) if assigned_to is not None else None
    reassigned = assign and assignee != before.assignee
    new_assignee = await _require_assignable(session, assigned_to) if reassigned and assigned_to else None
    values = (_lifecycle_values(lifecycle) if lifecycle else {}) | (_assignee_values(assignee) if reassigned else {})
    values |= _acknowledgement_timer(incident, lifecycle, now)
    if lifecycle is not None or reassigned:
        await _write_versioned(session, incident_id, values, before.version, now)
    elif note is not None:
        await queries.update_incident(session, incident_id=incident_id, values=values, now=now)
    entries: list[Entry] = []
    if lifecycle is not None:
        entries.append(await _status_changed(session, incident_id, lifecycle, before.status, actor, now))
    paged = False
    if reassigned:
        entries.append(timeline.reassigned(new_assignee, before.assignee, actor))
        if incident.status != Status.RESOLVED:
            paged = await _page_assignee(session, incident_id, new_assignee, actor, version=incident.version, now=now)
    if note is not None:
        added = queries.add_note(session, incident_id=incident_id, author=actor, body=note, now=now)
        entries.append(timeline.note_added(added.id, note, actor))
    queries.record(session, incident_id=incident_id, now=now, entries=entries)
    events = [lifecycle.status.value] if lifecycle and lifecycle.status in NOTICE_STATUSES else []
    events += ["reassigned"] if reassigned else []
    for event in events:
        await _tell_paged(session, incident, event, actor, except_ids={str(actor.id), str(assignee)}, now=now)
    return _outcome(incident, lifecycle, before.status, paged)


# Changes everyone already paged for an incident is told of (besides reassignment).
NOTICE_STATUSES = (Status.ACKNOWLEDGED, Status.RESOLVED)


async def _tell_paged(
    session: AsyncSession, incident: Incident, event: str, actor: Actor, *, except_ids: set[str], now: datetime
) -> int:
    """Queue one notice of this change to everyone paged for the incident so far (not
    to whoever made it, nor to a new assignee, who is paged): once, under the step
    of this version, by their first contact method, looked up as it goes out."""
    paged = await pages.paged_recipients(session, incident_id=incident.id)
    step_key = rules.notice_step(event, incident.version)
    told = rules.notice_recipients([user for user, _ in paged], except_ids=except_ids)
    planned = [rules.PlannedPage(user, step_key, None, now) for user in told]
    return await pages.enqueue_planned(
        session,
        incident_id=incident.id,
        event=event,
        planned=planned,
        now=now,
        reason=f"{event.capitalize()} by {actor.name}.",
        names={user: name for user, name in paged if name},
    )


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


def _acknowledgement_timer(incident: Incident, lifecycle: Lifecycle | None, now: datetime) -> dict[str, object]:
    """An acknowledged incident's re-notify timer starts (or starts again) with every
    touch: the acknowledgement itself, a note, a reassignment. Only the
    acknowledged status has one; the service's timeout, copied at assignment,
    decides (none: no timer)."""
    status = lifecycle.status if lifecycle is not None else Status(incident.status)
    if status is not Status.ACKNOWLEDGED or not incident.acknowledgement_timeout_minutes:
        return {}
    if incident.snoozed_until is not None:
        return {}  # snoozed: its end pages again, not the timeout
    return {"next_escalation_at": acknowledgement_deadline(incident.acknowledgement_timeout_minutes, now)}


def _assignee_values(assigned_to: str | None) -> dict[str, object]:
    """Columns a reassignment sets."""
    values: dict[str, object] = {"assigned_to": assigned_to}
    if assigned_to is not None:
        values["needs_assignment"] = False  # a person chose; on-call lookup no longer decides
    return values


async def _write_versioned(
    session: AsyncSession, incident_id: uuid.UUID, values: dict[str, object], version: int, now: datetime
) -> None:
    """Write `values` only if the row is still at `version`; 409 for the loser of a race."""
    if not await queries.update_incident(session, incident_id=incident_id, values=values, now=now, version=version):
        latest = await _require(session, incident_id)
        raise Conflict(
            "The incident was changed by someone else at the same time; reload and retry",
            current_status=latest.status,
            version=latest.version,
        )


async def _status_changed(
    session: AsyncSession, incident_id: uuid.UUID, lifecycle: Lifecycle, previous: str, actor: Actor, now: datetime
) -> Entry:
    """Cancel the pages a response makes pointless; the transition's timeline entry."""
    cancelled = 0
    if not is_paging(lifecycle.status):
        cancelled = await pages.cancel_pending_pages(session, incident_id=incident_id, now=now)
    return timeline.status_changed(lifecycle, previous, actor, pages_cancelled=cancelled)


async def _page_assignee(
    session: AsyncSession, incident_id: uuid.UUID, assignee: Actor | None, actor: Actor, *, version: int, now: datetime
) -> bool:
    """Page a person a responder assigned (nobody for an unassignment); True when a page was queued."""
    if assignee is None:
        return False
    user_id = str(assignee.id)
    recipients = {user_id: None}  # their contact methods are looked up as the page goes out
    return bool(
        await pages.enqueue_pages(
            session,
            incident_id=incident_id,
            step_key=assignment_step(version),
            event="triggered",
            recipients=recipients,
            now=now,
            reason=f"Assigned to you by {actor.name}.",
            names={user_id: assignee.name},
        )
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


async def add_note(
    session: AsyncSession, *, incident_id: uuid.UUID, author: Actor, body: str, now: datetime
) -> IncidentNote:
    """Add a note (allowed on resolved incidents too: postmortem findings)."""
    incident = await _require(session, incident_id)
    await queries.update_incident(
        session, incident_id=incident_id, values=_acknowledgement_timer(incident, None, now), now=now
    )
    note = queries.add_note(session, incident_id=incident_id, author=author, body=body, now=now)
    queries.record(session, incident_id=incident_id, now=now, entries=[timeline.note_added(note.id, body, author)])
    return note


async def escalate_now(session: AsyncSession, *, incident_id: uuid.UUID, actor: Actor, now: datetime) -> Incident:
    """A responder asks for the next level now: the escalation timer is due at once
    and says who asked; the engine (woken by the route) pages the next level with
    the chain oncall-service gives then, and words the page "manual escalation by
    <name>". An acknowledged incident goes back to triggered when it does. 409 for
    an incident that is not open or acknowledged, or that no policy escalates."""
    incident = await _require(session, incident_id)
    if incident.status not in (Status.OPEN, Status.ACKNOWLEDGED):
        raise Conflict(
            f"Only an open or acknowledged incident escalates; this one is {incident.status}",
            current_status=incident.status,
            version=incident.version,
        )
    if incident.needs_assignment or incident.escalation_policy_id is None:
        why = "is still waiting for on-call" if incident.needs_assignment else "has no escalation policy"
        raise Conflict(
            f"This incident {why}: there is no next level to page; reassign it instead",
            current_status=incident.status,
            version=incident.version,
        )
    values = {"escalation_requested_by": actor.name, "next_escalation_at": now}
    await _write_versioned(session, incident_id, values, incident.version, now)
    entry = Entry(actor, "escalation_requested", f"Escalation to the next level requested by {actor.name}", {})
    queries.record(session, incident_id=incident_id, now=now, entries=[entry])
    return incident
