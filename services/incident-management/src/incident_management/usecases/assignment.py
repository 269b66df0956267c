"""Assignment from on-call: who owns a new incident, who is paged first, when it escalates."""

import uuid
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from incident_management.clients.oncall import OnCall
from incident_management.db import queries
from incident_management.domain.actor import ENGINE
from incident_management.domain.escalation import Step, escalation_deadline
from incident_management.domain.state import Status
from platform_common.retry import retry_at as backoff_until
from platform_db.models import Incident

PRIMARY_STEP = "primary"


def policy_uuid(value: str | None) -> uuid.UUID | None:
    """An escalation policy id as oncall-service sent it, or None when it is not a UUID."""
    try:
        return uuid.UUID(value) if value else None
    except ValueError:
        return None


async def apply_oncall(session: AsyncSession, *, incident: Incident, oncall: OnCall | None, now: datetime) -> int:
    """Assign the incident from oncall-service's answer, queue the first pages and
    start its escalation timer. `incident` is fresh and locked. Returns pages queued."""
    previous_failures = incident.dependency_failures
    incident.needs_assignment = False
    incident.dependency_failures = 0
    incident.next_assignment_at = None
    incident.claimed_until = None
    incident.updated_at = now
    after = f" (after {previous_failures} failed attempts)" if previous_failures else ""
    if oncall is None:
        await queries.record(
            session,
            incident_id=incident.id,
            event_type="assignment_failed",
            actor=ENGINE,
            message=f"oncall-service knows no service {incident.service!r}"
            + (f" nor team {incident.team!r}" if incident.team else "")
            + "; the incident stays unassigned",
            data={"reason": "unknown_service"},
            now=now,
        )
        return 0
    first_level = oncall.levels[0] if oncall.levels else None
    assignee = oncall.primary or (first_level.users[0] if first_level and first_level.users else None)
    if incident.assigned_to is None and assignee is not None:
        incident.assigned_to = assignee.id
        await queries.record(
            session,
            incident_id=incident.id,
            event_type="assigned",
            actor=ENGINE,
            message=f"Assigned to {assignee.label}, on call for {incident.service}{after}",
            data={"assigned_to": assignee.id, "policy_id": oncall.policy_id},
            now=now,
        )
    elif incident.assigned_to is None:
        await queries.record(
            session,
            incident_id=incident.id,
            event_type="assignment_failed",
            actor=ENGINE,
            message=f"Nobody is on call for {incident.service}; the incident stays unassigned",
            data={"reason": "nobody_on_call"},
            now=now,
        )
    incident.escalation_policy_id = policy_uuid(oncall.policy_id)
    incident.escalation_level = 0
    incident.escalation_cycle = 0
    if incident.status != Status.OPEN:
        # Someone responded before on-call answered: nobody needs paging.
        incident.next_escalation_at = None
        return 0
    if first_level is not None:
        recipients = list(first_level.users)
        step_key = Step(0, 0).key
        incident.next_escalation_at = escalation_deadline(
            # Nobody at the first level: move on at once instead of waiting its delay.
            now,
            delay_minutes=first_level.delay_minutes if recipients else 0,
        )
    else:
        recipients = [assignee] if assignee else []
        step_key = PRIMARY_STEP
        incident.next_escalation_at = None
    queued = 0
    for recipient in recipients:
        queued += await queries.enqueue_page(
            session,
            incident_id=incident.id,
            step_key=step_key,
            recipient=recipient.id,
            event="triggered",
            now=now,
            contact=recipient.contact,
        )
    return queued


async def record_oncall_failure(
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
    if incident.dependency_failures == 1:
        what = (
            "escalation is delayed and will be retried"
            if escalating
            else "the incident stays unassigned; assignment will be retried"
        )
        await queries.record(
            session,
            incident_id=incident.id,
            event_type="escalation_failed" if escalating else "assignment_failed",
            actor=ENGINE,
            message=f"{error}; {what}",
            data={"reason": "oncall_unavailable", "error": error, "retry_at": retry_at.isoformat()},
            now=now,
        )
