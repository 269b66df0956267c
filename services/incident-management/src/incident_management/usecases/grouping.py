"""Correcting grouping: merge incidents, split alerts out, and the notice that an
alert joined an incident already acknowledged. Each runs in the route's one
transaction; the alerts move through regroup_alerts(), which takes the dedup
rule's own locks, so an alert arriving meanwhile lands in exactly one incident."""

import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from incident_management.db import alerts, pages, queries
from incident_management.domain import timeline
from incident_management.domain.state import Status
from incident_management.domain.timeline import Actor
from incident_management.usecases.incidents import Outcome, change_incident, create_incident
from incident_management.usecases.paging import ALERT_JOINED_STEP
from platform_common.errors import Conflict, NotFound, Unprocessable
from platform_db.enums import SEVERITIES
from platform_db.models import Incident, TimelineEntry


@dataclass(frozen=True)
class Merged:
    """The survivor, and the merged incidents' resolutions (for their MTTR metrics)."""

    survivor: Incident
    resolved: list[Outcome]


def _refuse(field: str, message: str) -> Unprocessable:
    return Unprocessable([{"loc": ["body", field], "msg": message, "type": "value_error"}])


async def _locked(session: AsyncSession, ids: list[uuid.UUID]) -> dict[uuid.UUID, Incident]:
    """The incidents, row-locked in id order (two merges over the same incidents queue, never deadlock)."""
    query = (
        select(Incident)
        .where(Incident.id.in_(ids))
        .order_by(Incident.id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    return {incident.id: incident for incident in (await session.execute(query)).scalars()}


async def merge_incidents(
    session: AsyncSession, *, survivor_id: uuid.UUID, merged_ids: list[uuid.UUID], actor: Actor, now: datetime
) -> Merged:
    """Fold `merged_ids` into the survivor: their alerts move into it (each saying it was
    merged, and by whom), and each is resolved with a link to the survivor. The survivor's
    own times, MTTA and MTTR stay its own. 404 for an unknown survivor, 422 for unknown or
    repeated incidents to merge, 409 when any of them is resolved already."""
    merged_ids = list(dict.fromkeys(merged_ids))
    if survivor_id in merged_ids:
        raise _refuse("incident_ids", "an incident cannot be merged into itself")
    found = await _locked(session, [survivor_id, *merged_ids])
    survivor = found.get(survivor_id)
    if survivor is None:
        raise NotFound(f"Incident {survivor_id} not found")
    missing = [str(i) for i in merged_ids if i not in found]
    if missing:
        raise _refuse("incident_ids", f"no incident {', '.join(missing)}")
    resolved = [i for i in [survivor_id, *merged_ids] if found[i].status == Status.RESOLVED]
    if resolved:
        raise Conflict(
            f"Incident {', '.join(map(str, resolved))} is resolved: only unresolved incidents merge",
            current_status=Status.RESOLVED.value,
        )
    titles = {i: found[i].title for i in merged_ids}
    moved = await alerts.regroup(
        session,
        sources=merged_ids,
        reasons=[timeline.merge_reason(titles[i], actor) for i in merged_ids],
        alert_ids=None,
        to=survivor_id,
    )
    outcomes = []
    for merged_id in merged_ids:
        outcomes.append(
            await change_incident(session, incident_id=merged_id, status=Status.RESOLVED, actor=actor, now=now)
        )
        await queries.update_incident(session, incident_id=merged_id, values={"merged_into": survivor_id}, now=now)
        count = moved.get(merged_id, 0)
        queries.record(
            session,
            incident_id=merged_id,
            now=now,
            entries=[timeline.merged_into(survivor_id, survivor.title, count, actor)],
        )
        queries.record(
            session,
            incident_id=survivor_id,
            now=now,
            entries=[timeline.merged_from(merged_id, titles[merged_id], count, actor)],
        )
    await queries.update_incident(session, incident_id=survivor_id, values={}, now=now)
    return Merged(await _reread(session, survivor_id), outcomes)


async def split_incident(
    session: AsyncSession, *, incident_id: uuid.UUID, alert_ids: list[uuid.UUID], actor: Actor, now: datetime
) -> Outcome:
    """Move `alert_ids` out of the incident into a new one, opened (and so paged) as any
    new incident: named after its first alert, at the highest severity among them. 404
    for an unknown incident, 409 for a resolved one, 422 for alerts not in it or for
    all of them (at least one stays)."""
    alert_ids = list(dict.fromkeys(alert_ids))
    source = (await _locked(session, [incident_id])).get(incident_id)
    if source is None:
        raise NotFound(f"Incident {incident_id} not found")
    if source.status == Status.RESOLVED:
        raise Conflict("A resolved incident is not split", current_status=source.status, version=source.version)
    chosen = [row for row in await alerts.alerts_by_id(session, ids=alert_ids) if row.incident_id == incident_id]
    strangers = sorted(set(map(str, alert_ids)) - {str(row.id) for row in chosen})
    if strangers:
        raise _refuse("alert_ids", f"not alerts of incident {incident_id}: {', '.join(strangers)}")
    if len(chosen) == len(await alerts.alert_ids_of(session, incident_id=incident_id)):
        raise _refuse("alert_ids", "every alert of the incident was chosen: at least one must stay")
    first = chosen[0]
    new_id = uuid.uuid4()
    opened = await create_incident(
        session,
        incident_id=new_id,
        title=" ".join(first.message.split())[:500] or f"Alert on {first.service}",
        service=source.service,
        severity=min((row.severity for row in chosen), key=SEVERITIES.index),
        description=first.message,
        team=source.team,
        assigned_to=None,
        actor=actor,
        now=now,
    )
    moved = await alerts.regroup(
        session,
        sources=[incident_id],
        reasons=[timeline.split_reason(source.title, actor)],
        alert_ids=alert_ids,
        to=new_id,
    )
    count = moved.get(incident_id, 0)
    queries.record(
        session,
        incident_id=incident_id,
        now=now,
        entries=[timeline.split_into(new_id, opened.incident.title, count, actor)],
    )
    queries.record(
        session, incident_id=new_id, now=now, entries=[timeline.split_from(incident_id, source.title, count, actor)]
    )
    await queries.update_incident(session, incident_id=incident_id, values={}, now=now)
    return Outcome(await _reread(session, new_id), created=True)


async def record_alert_joined(
    session: AsyncSession, *, incident_id: uuid.UUID, alert_id: uuid.UUID, now: datetime
) -> tuple[bool, bool]:
    """alert-ingestion's report that an alert joined the incident after it was
    acknowledged: the timeline says so, and the assignee gets a notice through the
    page outbox. Recorded once per alert (a repeated report changes nothing).
    Returns (recorded, notified)."""
    incident = await queries.get_incident(session, incident_id=incident_id, for_update=True)
    if incident is None:
        raise NotFound(f"Incident {incident_id} not found")
    seen = await session.scalar(
        select(TimelineEntry.id).where(
            TimelineEntry.incident_id == incident_id,
            TimelineEntry.event_type == "alert_joined",
            TimelineEntry.data["alert_id"].as_string() == str(alert_id),
        )
    )
    if seen is not None:
        return False, False
    [alert] = await alerts.alerts_by_id(session, ids=[alert_id]) or [None]
    if alert is None:
        raise NotFound(f"Alert {alert_id} not found")
    assignee = incident.assigned_to if incident.status != Status.RESOLVED else None
    person = await queries.acting_user(session, user_id=uuid.UUID(assignee)) if assignee else None
    name = person.name if person else assignee
    entry = timeline.alert_joined(alert_id, alert.message, alert.reason or "", incident.status, name)
    queries.record(session, incident_id=incident_id, now=now, entries=[entry])
    notified = False
    if assignee is not None:
        # A notice of its own kind, not `triggered`: the incident is already acknowledged,
        # so the message offers no acknowledge link (resolve and the incident's, yes).
        by = await queries.acknowledged_by(session, incident_id=incident_id)
        notified = bool(
            await pages.enqueue_pages(
                session,
                incident_id=incident_id,
                step_key=f"{ALERT_JOINED_STEP}{alert_id}",
                event="alert_joined",
                recipients={assignee: None},
                now=now,
                reason=timeline.alert_joined_notice(alert.message, alert.reason or "", by or name),
                names={assignee: name},
            )
        )
    return True, notified


async def _reread(session: AsyncSession, incident_id: uuid.UUID) -> Incident:
    incident = await queries.get_incident(session, incident_id=incident_id)
    assert incident is not None  # locked by this transaction
    return incident
