"""Acknowledge, resolve or reassign many incidents in one request, each on its own.

Each incident's change runs in a savepoint of the route's one transaction: an
incident that moved on (already acknowledged, resolved by someone else, gone)
gets its own refusal and rolls back only its own change, while the others
commit together at the edge."""

import uuid
from dataclasses import dataclass
from datetime import datetime
from functools import partial

from sqlalchemy.ext.asyncio import AsyncSession

from incident_management.domain.state import Status
from incident_management.domain.timeline import Actor
from incident_management.usecases.incidents import Outcome, change_incident, each_alone
from platform_common.errors import DomainError

TARGET = {"acknowledge": Status.ACKNOWLEDGED, "resolve": Status.RESOLVED}


@dataclass(frozen=True)
class ItemResult:
    """One incident's answer: the change's outcome, or the refusal it met."""

    incident_id: uuid.UUID
    outcome: Outcome | None = None
    error: DomainError | None = None


async def bulk_change(
    session: AsyncSession,
    *,
    incident_ids: list[uuid.UUID],
    action: str,
    assigned_to: uuid.UUID | None,
    actor: Actor,
    now: datetime,
) -> list[ItemResult]:
    """Apply `action` to each incident as change_incident() would alone, in the order given."""
    changes = (
        partial(
            change_incident,
            session,
            incident_id=incident_id,
            actor=actor,
            now=now,
            status=TARGET.get(action),
            assign=action == "reassign",
            assigned_to=assigned_to,
        )
        for incident_id in incident_ids
    )
    results = await each_alone(session, changes)
    return [
        ItemResult(incident_id, error=r) if isinstance(r, DomainError) else ItemResult(incident_id, outcome=r)
        for incident_id, r in zip(incident_ids, results, strict=True)
    ]
