"""Assignment and escalation from oncall-service's answer: who owns an incident,
who is paged, when it moves on; and what happens while oncall-service cannot answer.

Each takes the incident fresh and locked, in the engine's transaction for it.
"""

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from incident_management.db import pages, queries
from incident_management.domain.escalation import (
    OnCall,
    Person,
    Step,
    escalation_deadline,
    first_pages,
    next_staffed_step,
    renotify_step,
)
from incident_management.domain.reasons import Reason, Why, nobody_on_call, page_text, timeline_text
from incident_management.domain.rules import plan_person, urgency_of
from incident_management.domain.state import Status
from incident_management.domain.timeline import ENGINE, Entry
from platform_common.retry import retry_at as backoff_until
from platform_db.models import Incident


async def apply_oncall(session: AsyncSession, *, incident: Incident, oncall: OnCall | None, now: datetime) -> int:
    """Assign the incident from oncall-service's answer, queue the first pages and
    start its escalation timer. Returns pages queued."""
    entry = _assign(incident, oncall, now)
    if entry is not None:
        queries.record(session, incident_id=incident.id, now=now, entries=[entry])
    if oncall is None:
        return 0
    incident.escalation_policy_id = oncall.policy_uuid
    incident.escalation_level = 0
    incident.escalation_cycle = 0
    incident.acknowledgement_timeout_minutes = oncall.acknowledgement_timeout_minutes
    if incident.status != Status.OPEN:
        # Someone responded before on-call answered: nobody needs paging.
        incident.next_escalation_at = None
        return 0
    first = first_pages(oncall, now)
    incident.next_escalation_at = first.escalate_at
    if first.step is None:
        if first.skipped:
            message = f"Nobody was paged: {nobody_on_call(oncall, first.skipped)}"
            data = {"skipped_levels": list(first.skipped)}
            entry = Entry(ENGINE, "not_paged", message, data)
            queries.record(session, incident_id=incident.id, now=now, entries=[entry])
            return 0
        # No policy: the assignee alone is paged.
        reason = f"First page: you are on call for {incident.service}."
        return await _page(session, incident, oncall, first.step_key, first.recipients, "triggered", now, reason)
    incident.escalation_level = first.step.level
    incident.escalation_cycle = first.step.cycle
    why = Reason(Why.FIRST, first.step, first.skipped)
    queued = await _page(
        session,
        incident,
        oncall,
        first.step_key,
        first.recipients,
        "triggered",
        now,
        page_text(oncall, why, incident.service),
    )
    if first.skipped:
        # The first level had nobody: say so, and whom the incident went to instead.
        names = ", ".join(user.label for user in first.recipients)
        data = {
            "level": first.step.level,
            "cycle": first.step.cycle,
            "users": [user.id for user in first.recipients],
            "skipped_levels": list(first.skipped),
            "reason": Why.FIRST.value,
        }
        message = timeline_text(oncall, why, names)
        queries.record(session, incident_id=incident.id, now=now, entries=[Entry(ENGINE, "skipped", message, data)])
    return queued


def _assign(incident: Incident, oncall: OnCall | None, now: datetime) -> Entry | None:
    """The incident no longer waits for on-call; whoever is on call owns it unless
    someone does already. What the timeline says about it, if anything."""
    failures = incident.dependency_failures
    incident.needs_assignment = False
    incident.dependency_failures = 0
    incident.next_assignment_at = None
    incident.claimed_until = None
    incident.updated_at = now
    if oncall is None:
        team = f" nor team {incident.team!r}" if incident.team else ""
        message = f"oncall-service knows no service {incident.service!r}{team}; the incident stays unassigned"
        return Entry(ENGINE, "assignment_failed", message, {"reason": "unknown_service"})
    if incident.assigned_to is not None:
        return None
    assignee = oncall.assignee
    if assignee is None:
        message = f"Nobody is on call for {incident.service}; the incident stays unassigned"
        return Entry(ENGINE, "assignment_failed", message, {"reason": "nobody_on_call"})
    incident.assigned_to = assignee.id
    after = f" (after {failures} failed attempts)" if failures else ""
    message = f"Assigned to {assignee.label}, on call for {incident.service}{after}"
    return Entry(ENGINE, "assigned", message, {"assigned_to": assignee.id, "policy_id": oncall.policy_id})


async def apply_escalation(session: AsyncSession, *, incident: Incident, oncall: OnCall | None, now: datetime) -> bool:
    """The incident's timer ran out (or a responder asked to escalate now): page whom
    the chain oncall-service gave now says, and set the next timer. An open incident
    moves to its next level; an acknowledged one whose acknowledgement timed out goes
    back to triggered and pages its level again; a manual request moves on at once
    from either. Returns True when it paged."""
    incident.claimed_until = None
    incident.dependency_failures = 0
    incident.updated_at = now
    requested_by, incident.escalation_requested_by = incident.escalation_requested_by, None
    current = Step(incident.escalation_level, incident.escalation_cycle)
    if requested_by is not None:
        why = Why.MANUAL
    elif incident.status == Status.ACKNOWLEDGED:
        why = Why.RENOTIFY
    else:
        why = Why.TIMEOUT
    if oncall is None:
        step, skipped = None, []
    elif why is Why.RENOTIFY:
        step, skipped = renotify_step(current, oncall)
    else:
        step, skipped = next_staffed_step(current, oncall)
    if oncall is None or step is None:
        incident.next_escalation_at = None
        queries.record(session, incident_id=incident.id, now=now, entries=[_not_escalated(incident, oncall)])
        return False
    level = oncall.levels[step.level]
    if incident.status == Status.ACKNOWLEDGED:
        # Back to triggered: MTTA stays as the first acknowledgement fixed it.
        incident.status = Status.OPEN.value
        incident.version += 1
    incident.escalation_policy_id = oncall.policy_uuid
    incident.escalation_level = step.level
    incident.escalation_cycle = step.cycle
    incident.assigned_to = level.users[0].id
    incident.next_escalation_at = escalation_deadline(now, delay_minutes=level.delay_minutes)
    reason = Reason(
        why,
        step,
        tuple(skipped),
        previous=current,
        minutes=_waited(why, incident, oncall, current),
        by=requested_by,
    )
    step_key = f"renotify-{int(now.timestamp())}-{step.key}" if why is Why.RENOTIFY else step.key
    text = page_text(oncall, reason, incident.service)
    await _page(session, incident, oncall, step_key, level.users, "escalated", now, text)
    names = ", ".join(user.label for user in level.users)
    data = {
        "level": step.level,
        "cycle": step.cycle,
        "users": [user.id for user in level.users],
        "skipped_levels": skipped,
        "reason": why.value,
        "next_escalation_at": incident.next_escalation_at.isoformat(),
    }
    if requested_by is not None:
        data["requested_by"] = requested_by
    event = "renotified" if why is Why.RENOTIFY else "escalated"
    message = timeline_text(oncall, reason, names)
    queries.record(session, incident_id=incident.id, now=now, entries=[Entry(ENGINE, event, message, data)])
    return True


def _waited(why: Why, incident: Incident, oncall: OnCall, current: Step) -> float | None:
    """How long the page before went unanswered (TIMEOUT: the level's delay) or the
    acknowledgement lay untouched (RENOTIFY: the service's timeout)."""
    if why is Why.RENOTIFY:
        return incident.acknowledgement_timeout_minutes
    if why is Why.TIMEOUT and 0 <= current.level < len(oncall.levels):
        return oncall.levels[current.level].delay_minutes
    return None


def _not_escalated(incident: Incident, oncall: OnCall | None) -> Entry:
    """Why escalation stops here: no policy applies any more, or every level was paged."""
    if oncall is None or not oncall.levels:
        message = f"No escalation policy applies to {incident.service} any more; escalation stopped"
        return Entry(ENGINE, "escalation_stopped", message)
    message = "The escalation policy is exhausted: every level was paged and nobody acknowledged"
    return Entry(
        ENGINE,
        "escalation_exhausted",
        message,
        {"level": incident.escalation_level, "cycle": incident.escalation_cycle},
    )


async def _page(
    session: AsyncSession,
    incident: Incident,
    oncall: OnCall,
    step_key: str,
    people: tuple[Person, ...],
    event: str,
    now: datetime,
    reason: str,
) -> int:
    """Queue this step's pages, each person's as their notification rules for the
    incident's urgency say (later steps wait in the outbox until due)."""
    urgency = urgency_of(incident.severity, oncall.high_urgency_severities)
    planned = [
        page
        for person in people
        for page in plan_person(
            recipient=person.id, step_key=step_key, contact=person.contact, rules=person.rules, urgency=urgency, now=now
        )
    ]
    return await pages.enqueue_planned(
        session,
        incident_id=incident.id,
        event=event,
        planned=planned,
        now=now,
        reason=reason,
        names={person.id: person.label for person in people},
    )


def record_oncall_failure(
    session: AsyncSession,
    *,
    incident: Incident,
    error: str,
    now: datetime,
    retry_base: float,
    retry_cap: float,
    escalating: bool,
) -> None:
    """oncall-service could not answer: keep the incident as it is, retry with backoff,
    and say why in the timeline (once per outage, not on every retry)."""
    incident.dependency_failures += 1
    retry_at = backoff_until(now, incident.dependency_failures, base=retry_base, cap=retry_cap)
    if escalating:
        incident.next_escalation_at = retry_at
    else:
        incident.next_assignment_at = retry_at
    incident.claimed_until = None
    if incident.dependency_failures > 1:
        return
    if escalating:
        event, what = "escalation_failed", "escalation is delayed and will be retried"
    else:
        event, what = "assignment_failed", "the incident stays unassigned; assignment will be retried"
    data = {"reason": "oncall_unavailable", "error": error, "retry_at": retry_at.isoformat()}
    queries.record(session, incident_id=incident.id, now=now, entries=[Entry(ENGINE, event, f"{error}; {what}", data)])
