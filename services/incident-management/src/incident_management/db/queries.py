"""Reads and writes of incidents, their timeline, notes and link uses. Keyword-only;
none of them commits: the route or the worker cycle owns the transaction."""

import uuid
from collections.abc import Collection, Sequence
from datetime import datetime
from typing import Any, NamedTuple

from sqlalchemy import (
    ColumnElement,
    Select,
    and_,
    case,
    func,
    literal,
    or_,
    select,
    text,
    union,
    union_all,
    update,
)
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from incident_management.db.alerts import AlertEntry, alert_entries
from incident_management.domain.links import LinkClaim
from incident_management.domain.timeline import Actor, Entry
from platform_common import queue
from platform_db.enums import SEVERITIES
from platform_db.models import Incident, IncidentNote, LinkUse, TimelineEntry, incident_alerts
from platform_db.models.alerts import alert_text
from platform_db.models.incidents import INCIDENT_TEXT

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


async def get_incidents(
    session: AsyncSession, *, incident_ids: Collection[uuid.UUID], for_update: bool = False
) -> dict[uuid.UUID, Incident]:
    """Several incidents by id, fresh, in one statement (locked with `for_update`, in id
    order, the order every batch locks in, so two batches never wait on each other in a
    cycle); an id that is gone is missing from the answer."""
    query = (
        select(Incident)
        .where(Incident.id.in_(incident_ids))
        .order_by(Incident.id)
        .execution_options(populate_existing=True)
    )
    if for_update:
        query = query.with_for_update()
    return {incident.id: incident for incident in (await session.execute(query)).scalars()}


# The expressions the trigram indexes of migration 0014_quiet are built on (the space a
# literal, not a parameter), so the planner answers ILIKE from ix_incidents_search and ix_alerts_search.
ALERT_TEXT = alert_text(incident_alerts.c.source, incident_alerts.c.labels)


def _like_pattern(words: str) -> str:
    """`words` anywhere in the text, LIKE's wildcards in them taken literally."""
    escaped = words.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


# A search counts its matches up to here. Past it the answer says "more than 1,000"
# (total_capped) instead of reading, rechecking and sorting every match of a broad word.
SEARCH_COUNT_CAP = 1000
# The list without a search counts its matches up to here: an exact count reads every matching row
# (963 ms for the plain list at 1,000,000 incidents, bench/incident_list.py), counting 10,001 index
# entries a few milliseconds. Past it the answer says "more than 10,000" (total_capped).
LIST_COUNT_CAP = 10_000


class IncidentsFound(NamedTuple):
    """A page of incidents and how many match."""

    items: list[Incident]
    total: int
    capped: bool  # more than `total` match: the count stopped at a cap


def _matching(q: str) -> Any:
    """Ids of incidents whose title or service, or one of whose alerts' source or labels, contain `q`
    (any case). A union of two index scans: an OR across the two tables would scan every incident."""
    incidents, alerts = _matching_sides(q)
    return union(incidents, alerts)


def _matching_sides(q: str) -> tuple[Select[Any], Select[Any]]:
    pattern = _like_pattern(q)
    return (
        select(Incident.id).where(INCIDENT_TEXT.ilike(pattern)),
        select(incident_alerts.c.incident_id).where(ALERT_TEXT.ilike(pattern)),
    )


async def _first_matches(session: AsyncSession, *, q: str, cap: int) -> tuple[set[uuid.UUID], bool]:
    """Ids of incidents `q` matches, from each index's first cap + 1 rows (cheap however broad the
    text), and whether that is all of them: false when a side stopped, as the alerts' side may after
    cap + 1 alerts of fewer incidents."""
    sides = [side.add_columns(literal(n)).limit(cap + 1) for n, side in enumerate(_matching_sides(q))]
    rows = (await session.execute(union_all(*sides))).all()
    # (an alert that opened no incident, suppressed in a maintenance window, has no id: the None)
    ids = {row[0] for row in rows if row[0] is not None}
    return ids, all(sum(1 for row in rows if row[1] == n) <= cap for n in range(len(sides)))


def _matches_row(q: str) -> ColumnElement[bool]:
    """The same test as _matching, one incident at a time, for a walk newest first that stops at a
    page: the title or service, or membership of the set the alerts' index finds (hashed once)."""
    pattern = _like_pattern(q)
    alerts = select(incident_alerts.c.incident_id).where(ALERT_TEXT.ilike(pattern))
    return or_(INCIDENT_TEXT.ilike(pattern), Incident.id.in_(alerts))


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
    q: str | None = None,
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
    cap: int = SEARCH_COUNT_CAP,
    list_cap: int = LIST_COUNT_CAP,
) -> IncidentsFound:
    """One page of incidents and the total matching (up to `list_cap` without `q`, `cap` with it).
    The id breaks ties so pages never overlap."""
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
    if q:
        found = await _search(
            session,
            q=q,
            filters=filters,
            order=order,
            descending=descending if column is Incident.created_at else None,
            limit=limit,
            offset=offset,
            cap=cap,
        )
        if found is not None:
            return found
    query, matching = _filtered(select(Incident), **filters), _filtered(select(Incident.id), **filters)
    if q:  # (the general search: every match is read to be sorted anyway, so counted exactly)
        query, matching = (part.where(Incident.id.in_(_matching(q))) for part in (query, matching))
    else:  # stop counting past the cap instead of reading every matching row
        matching = matching.limit(list_cap + 1)
    rows = await session.execute(query.order_by(*order).limit(limit).offset(offset))
    total = int(await session.scalar(select(func.count()).select_from(matching.subquery())) or 0)
    if not q and total > list_cap:
        return IncidentsFound(list(rows.scalars()), list_cap, capped=True)
    return IncidentsFound(list(rows.scalars()), total, capped=False)


async def _search(
    session: AsyncSession,
    *,
    q: str,
    filters: dict[str, Any],
    order: tuple[Any, ...],
    descending: bool | None,
    limit: int,
    offset: int,
    cap: int,
) -> IncidentsFound | None:
    """A search's page, planned by how much the text matches (bench/search.py measures each way);
    None when only the general path (every match sorted and counted) can answer it."""
    # Plan each statement for this text: psycopg prepares a statement run five times, and PostgreSQL's
    # generic plan for `ILIKE $1 LIMIT $2` is a sequential scan (1.2 s at 100,000 incidents).
    await session.execute(text("SET LOCAL plan_cache_mode = force_custom_plan"))
    ids, complete = await _first_matches(session, q=q, cap=cap)
    if complete and not ids:
        return IncidentsFound([], 0, capped=False)
    if complete and len(ids) <= cap:  # a few matches: sort them all
        return await _sorted_and_counted(session, Incident.id.in_(ids), filters, order, limit, offset)
    if descending is None:  # sorted by something no index walks in order: every match, as before
        return await _sorted_and_counted(session, Incident.id.in_(_matching(q)), filters, order, limit, offset)
    # More than `cap` incidents may match: walk incidents in creation order (ix_incidents_created_at,
    # or a filter's index) and test each, stopping at the page, or at cap + 1 matches to count them.
    walk = _filtered(select(Incident), **filters).where(_matches_row(q)).order_by(*order)
    if len(ids) > cap and not any(filters.values()):  # the text alone matches more than `cap`
        items = await session.scalars(walk.limit(limit).offset(offset))
        return IncidentsFound(list(items), cap, capped=True)
    counted = walk.limit(max(cap + 1, offset + limit)).subquery()
    keys = (counted.c.created_at, counted.c.id)
    again = [key.desc() for key in keys] if descending else [key.asc() for key in keys]
    page = select(aliased(Incident, counted), func.count().over()).order_by(*again).limit(limit).offset(offset)
    rows = (await session.execute(page)).all()
    if not rows:
        return None if offset else IncidentsFound([], 0, capped=False)
    total = int(rows[0][1])
    return IncidentsFound([row[0] for row in rows], min(total, cap), capped=total > cap)


async def _sorted_and_counted(
    session: AsyncSession,
    matches: ColumnElement[bool],
    filters: dict[str, Any],
    order: tuple[Any, ...],
    limit: int,
    offset: int,
) -> IncidentsFound | None:
    """The page of the matches, counted in the same pass (a window count: they are all read to be
    sorted anyway); None past the end, where no row carries the count."""
    query = _filtered(select(Incident, func.count().over()), **filters).where(matches)
    rows = (await session.execute(query.order_by(*order).limit(limit).offset(offset))).all()
    if rows or offset == 0:
        return IncidentsFound([row[0] for row in rows], int(rows[0][1]) if rows else 0, capped=False)
    return None


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


async def update_incident(
    session: AsyncSession,
    *,
    incident_id: uuid.UUID,
    values: dict[str, Any],
    now: datetime,
    version: int | None = None,
) -> bool:
    """Write `values` and `updated_at`. With `version`, only while the row is still
    at it, moving it on by one: False when another change came first. The session's
    copy of the incident takes the values too, so nobody needs to read it again."""
    statement = update(Incident).where(Incident.id == incident_id).values(**values, updated_at=now)
    if version is not None:
        statement = statement.where(Incident.version == version).values(version=version + 1)
    result = await session.execute(statement.execution_options(synchronize_session="evaluate"))
    return bool(result.rowcount)


def record(session: AsyncSession, *, incident_id: uuid.UUID, now: datetime, entries: Sequence[Entry]) -> None:
    """Append a change's timeline entries, in order (the table refuses edits);
    the next flush writes them in one INSERT."""
    session.add_all(
        TimelineEntry(
            incident_id=incident_id,
            event_type=entry.event_type,
            actor=entry.actor.name,
            actor_id=entry.actor.id,
            message=entry.message,
            data=entry.data,
            created_at=now,
        )
        for entry in entries
    )


def add_note(session: AsyncSession, *, incident_id: uuid.UUID, author: Actor, body: str, now: datetime) -> IncidentNote:
    """A new note, written with the next flush."""
    note = IncidentNote(
        id=uuid.uuid4(), incident_id=incident_id, author=author.name, author_id=author.id, body=body, created_at=now
    )
    session.add(note)
    return note


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


async def claim_unassigned(
    session: AsyncSession, *, now: datetime, lease_until: datetime, limit: int
) -> list[Incident]:
    """Incidents waiting for an on-call lookup whose retry time has come (ingestion's fallback rows too)."""
    due = and_(
        Incident.needs_assignment.is_(True),
        or_(Incident.next_assignment_at.is_(None), Incident.next_assignment_at <= now),
    )
    return await _claim(session, due, Incident.created_at, now=now, lease_until=lease_until, limit=limit)


async def claim_due_escalations(
    session: AsyncSession, *, now: datetime, lease_until: datetime, limit: int
) -> list[Incident]:
    """Incidents whose escalation timer has run out: unacknowledged ones (their
    level's delay, or a responder asked to escalate now) and acknowledged ones
    (their acknowledgement timed out, or a responder asked to escalate)."""
    due = and_(
        Incident.status.in_(("open", "acknowledged")),
        Incident.needs_assignment.is_(False),
        Incident.next_escalation_at.is_not(None),
        Incident.next_escalation_at <= now,
    )
    return await _claim(session, due, Incident.next_escalation_at, now=now, lease_until=lease_until, limit=limit)


async def acknowledged_by(session: AsyncSession, *, incident_id: uuid.UUID) -> str | None:
    """Who last acknowledged the incident (the timeline's actor), or None if nobody did."""
    query = (
        select(TimelineEntry.actor)
        .where(TimelineEntry.incident_id == incident_id, TimelineEntry.event_type == "acknowledged")
        .order_by(TimelineEntry.id.desc())
        .limit(1)
    )
    return await session.scalar(query)


async def snoozes_ended(session: AsyncSession, *, now: datetime, limit: int, lock: bool = True) -> list[Incident]:
    """Incidents whose snooze has passed, locked; another replica's are skipped (it is ending them).
    Ended in the same transaction, with no call out, so a row lock does instead of a lease
    (`lock=False`: only a look at whose on-call chain to ask for first)."""
    query = (
        select(Incident)
        .where(Incident.snoozed_until.is_not(None), Incident.snoozed_until <= now)
        .order_by(Incident.snoozed_until)
        .limit(limit)
        .execution_options(populate_existing=True)
    )
    if lock:
        query = query.with_for_update(skip_locked=True)
    return list((await session.execute(query)).scalars())


async def _claim(
    session: AsyncSession,
    due: ColumnElement[bool],
    oldest_first: Any,
    *,
    now: datetime,
    lease_until: datetime,
    limit: int,
) -> list[Incident]:
    # The engine's work: each incident leased to one replica by `claimed_until`.
    return await queue.claim(
        session,
        Incident,
        due=due,
        order_by=[oldest_first],
        lease=Incident.claimed_until,
        now=now,
        lease_until=lease_until,
        limit=limit,
    )


async def release(session: AsyncSession, *, incident_id: uuid.UUID) -> None:
    """Give up this process's lease on the incident."""
    await queue.finish(session, Incident, key=incident_id, values={"claimed_until": None})


async def timeline_counts(session: AsyncSession, *, incident_id: uuid.UUID) -> dict[str, int]:
    """How many timeline entries of each type the incident has."""
    query = (
        select(TimelineEntry.event_type, func.count())
        .where(TimelineEntry.incident_id == incident_id)
        .group_by(TimelineEntry.event_type)
    )
    return {key: int(count) for key, count in (await session.execute(query)).all()}


async def link_use(session: AsyncSession, *, nonce: str) -> LinkUse | None:
    """The use of the link with this nonce, if it was used."""
    return await session.get(LinkUse, nonce)


async def use_link(session: AsyncSession, *, claim: LinkClaim, now: datetime) -> bool:
    """Store the use of a link, in a savepoint; False when it was used already (its
    nonce is the key: of two taps at once, the second waits for the first and loses)."""
    use = LinkUse(
        nonce=claim.nonce, incident_id=claim.incident_id, user_id=claim.user_id, action=claim.action, used_at=now
    )
    try:
        async with session.begin_nested():
            session.add(use)
    except IntegrityError:
        return False
    return True
