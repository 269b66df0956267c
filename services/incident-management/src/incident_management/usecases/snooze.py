"""Snoozing an acknowledged incident, and reopening it when the snooze ends (the engine's step)."""

import uuid
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from incident_management.db import pages, queries
from incident_management.domain import snooze as rules
from incident_management.domain.escalation import OnCall, escalation_deadline
from incident_management.domain.state import Status
from incident_management.domain.timeline import Actor
from platform_common.errors import Conflict, NotFound
from platform_db.models import Incident


async def snooze(
    session: AsyncSession, *, incident_id: uuid.UUID, minutes: int, actor: Actor, now: datetime
) -> Incident:
    """Snooze the incident for `minutes`; 409 unless it is acknowledged. A second snooze replaces the first."""
    incident = await queries.get_incident(session, incident_id=incident_id, for_update=True)
    if incident is None:
        raise NotFound(f"Incident {incident_id} not found")
    try:
        until = rules.snooze_until(incident.status, minutes, now)
    except rules.NotSnoozable as exc:
        raise Conflict(str(exc), current_status=incident.status, version=incident.version) from exc
    await queries.update_incident(
        session,
        incident_id=incident_id,
        # The snooze's end pages again: an acknowledgement timeout must not page during it.
        values={"snoozed_until": until, "next_escalation_at": None},
        now=now,
        version=incident.version,
    )
    queries.record(session, incident_id=incident_id, now=now, entries=[rules.snoozed(until, minutes, actor)])
    return incident


async def end_snooze(
    session: AsyncSession, *, incident: Incident, oncall: OnCall | None, oncall_error: str | None, now: datetime
) -> bool:
    """The snooze of `incident` (claimed, locked) has passed: back to open and paged again if it is
    still acknowledged, else only forgotten. Escalation starts again from the incident's level, on
    that level's delay in the chain oncall-service gave (`oncall`, asked before the lock;
    `oncall_error` when it could not answer). True when it reopened and a page (or an on-call
    lookup) was queued."""
    if not rules.reopens(incident.status):
        await queries.update_incident(session, incident_id=incident.id, values={"snoozed_until": None}, now=now)
        return False
    assignee = incident.assigned_to
    values: dict[str, object] = {"status": Status.OPEN.value, "snoozed_until": None}
    entries = [rules.snooze_ended(assignee)]
    if assignee is None:
        values["needs_assignment"] = True  # on-call decides who is paged and starts the timer, as for a new incident
    else:
        deadline = _restarted_escalation(incident, oncall, now)
        values["next_escalation_at"] = deadline
        if deadline is None:
            entries.append(rules.escalation_not_restarted(oncall_error))
    await queries.update_incident(session, incident_id=incident.id, values=values, now=now, version=incident.version)
    queries.record(session, incident_id=incident.id, now=now, entries=entries)
    if assignee is not None:
        # A step of its own per reopening: the outbox sends each (incident, step, person) once.
        step_key = f"snooze-v{incident.version}"
        person = await queries.acting_user(session, user_id=uuid.UUID(assignee))
        await pages.enqueue_pages(
            session,
            incident_id=incident.id,
            step_key=step_key,
            event="triggered",
            recipients={assignee: None},
            now=now,
            reason="The snooze ended: this incident is triggered again.",
            # The timeline names them as it names every page's recipient (the id stays in its data).
            names={assignee: person.name} if person else None,
        )
    return True


def _restarted_escalation(incident: Incident, oncall: OnCall | None, now: datetime) -> datetime | None:
    """When the reopened incident escalates past its level if nobody acknowledges: that level's
    delay from now, the rule a new assignment and every escalation use (escalation_deadline).
    None when no chain applies any more (no answer, or the policy lost that level)."""
    if oncall is None or not 0 <= incident.escalation_level < len(oncall.levels):
        return None
    return escalation_deadline(now, delay_minutes=oncall.levels[incident.escalation_level].delay_minutes)
