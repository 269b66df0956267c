"""Escalation of an unacknowledged incident to the next level of its policy."""

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from incident_management.clients.oncall import OnCall
from incident_management.db import queries
from incident_management.domain.actor import ENGINE
from incident_management.domain.escalation import Step, escalation_deadline, next_step
from incident_management.usecases.assignment import policy_uuid
from platform_db.models import Incident


async def apply_escalation(session: AsyncSession, *, incident: Incident, oncall: OnCall | None, now: datetime) -> bool:
    """Move the incident one step along the chain oncall-service gave now: page
    that level and set the next timer. `incident` is fresh, locked, open and due.
    Returns True when it escalated."""
    incident.claimed_until = None
    incident.dependency_failures = 0
    incident.updated_at = now
    levels = oncall.levels if oncall else ()
    if not levels:
        incident.next_escalation_at = None
        await queries.record(
            session,
            incident_id=incident.id,
            event_type="escalation_stopped",
            actor=ENGINE,
            message=f"No escalation policy applies to {incident.service} any more; escalation stopped",
            data={},
            now=now,
        )
        return False
    repeat_count = oncall.repeat_count if oncall else 0
    current = Step(incident.escalation_level, incident.escalation_cycle)
    step = next_step(current, level_count=len(levels), repeat_count=repeat_count)
    skipped: list[int] = []
    # Levels with nobody on call are passed over; the bound guards a policy of empty levels.
    for _ in range(len(levels) * (repeat_count + 1)):
        if step is None or levels[step.level].users:
            break
        skipped.append(step.level)
        step = next_step(step, level_count=len(levels), repeat_count=repeat_count)
    if step is None or not levels[step.level].users:
        incident.next_escalation_at = None
        await queries.record(
            session,
            incident_id=incident.id,
            event_type="escalation_exhausted",
            actor=ENGINE,
            message="The escalation policy is exhausted: every level was paged and nobody acknowledged",
            data={"level": incident.escalation_level, "cycle": incident.escalation_cycle},
            now=now,
        )
        return False
    level = levels[step.level]
    incident.escalation_policy_id = policy_uuid(oncall.policy_id if oncall else None)
    incident.escalation_level = step.level
    incident.escalation_cycle = step.cycle
    incident.assigned_to = level.users[0].id
    incident.next_escalation_at = escalation_deadline(now, delay_minutes=level.delay_minutes)
    for user in level.users:
        await queries.enqueue_page(
            session,
            incident_id=incident.id,
            step_key=step.key,
            recipient=user.id,
            event="escalated",
            now=now,
            contact=user.contact,
        )
    names = ", ".join(user.label for user in level.users)
    repeat = f" (repeat {step.cycle} of {repeat_count})" if step.cycle else ""
    await queries.record(
        session,
        incident_id=incident.id,
        event_type="escalated",
        actor=ENGINE,
        message=f"Not acknowledged: escalated to level {step.level + 1}{repeat}: {names}",
        data={
            "level": step.level,
            "cycle": step.cycle,
            "users": [user.id for user in level.users],
            "skipped_levels": skipped,
            "next_escalation_at": incident.next_escalation_at.isoformat() if incident.next_escalation_at else None,
        },
        now=now,
    )
    return True
