"""The incident API: thin routes, each one transaction committed here, once."""

import uuid
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Response, status

from incident_management.api.batch import per_item
from incident_management.api.deps import (
    ClockDep,
    EngineDep,
    SessionDep,
    SettingsDep,
    actor_of,
    refuse_platform_fields,
)
from incident_management.api.schemas import (
    BulkItemResult,
    BulkRequest,
    BulkResult,
    IncidentBatchCreate,
    IncidentBatchItemResult,
    IncidentBatchResult,
    IncidentCreate,
    IncidentDetail,
    IncidentMetrics,
    IncidentPage,
    IncidentRead,
    IncidentUpdate,
    NoteCreate,
    NoteRead,
    PageRead,
    Severity,
    SnoozeCreate,
    TimelineRead,
)
from incident_management.db import pages, queries
from incident_management.db.alerts import alerts_of
from incident_management.domain.state import Status
from incident_management.metrics import observe_outcome, responder_action
from incident_management.usecases import bulk, snooze
from incident_management.usecases import incidents as use_cases
from incident_management.usecases.incidents import Outcome
from incident_management.workers.engine import IncidentEngine
from platform_common.auth import VIEWER, Platform, Principal, Responder, Viewer
from platform_common.errors import DomainError, NotFound, Unprocessable, error_responses
from platform_common.validation import NulFree, Offset, Text, UtcDatetime, first_error

router = APIRouter(prefix="/api/v1/incidents", tags=["incidents"])

Sort = Literal["created_at", "-created_at", "updated_at", "-updated_at", "severity", "-severity"]


# Bounded so a pasted log line cannot make a pathological pattern; stripped, and empty means no search.
SearchText = Text(200, min_length=1, strip=True)


def me(principal: Principal) -> uuid.UUID:
    """The caller's user id, for `assignee=me`; 422 for a caller that is not a user (the platform)."""
    if principal.user_id is None:
        raise Unprocessable(
            [{"loc": ["query", "assignee"], "msg": "`me` names a signed-in user; this caller is not one", "type": "me"}]
        )
    return principal.user_id


def as_utc(moment: datetime | None) -> datetime | None:
    """Query times without an offset are read as UTC."""
    if moment is None:
        return None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    summary="Open an incident",
    description=(
        "`id`, `opened_at` and `acting_integration` are for the platform's own calls (alert-ingestion opens the"
        " incident its rule reserved, as of the alert that opened it, for an integration); a user sending one"
        " gets 403. The platform's create is idempotent on `id`: a repeat answers 200 with the incident as stored."
    ),
    responses={
        200: {"model": IncidentRead, "description": "The platform's repeat of a create: the incident as stored"},
        **error_responses(
            403,
            422,
            s403="not a responder, or a user sent `id`, `opened_at` or `acting_integration`",
            s422="invalid input, or `assigned_to` names no user who may act (a responder or admin, not disabled)",
        ),
    },
)
async def create_incident(
    body: IncidentCreate,
    principal: Responder,
    response: Response,
    session: SessionDep,
    clock: ClockDep,
    engine: EngineDep,
) -> IncidentRead:
    refuse_platform_fields(principal, id=body.id, opened_at=body.opened_at)
    async with session.begin():
        outcome = await use_cases.create_incident(session, **_create_request(body, principal, clock.now()))
    if not outcome.created:
        response.status_code = status.HTTP_200_OK
        return IncidentRead.model_validate(outcome.incident)
    observe_outcome(severity=body.severity, created=True, mtta=None, mttr=None)
    # This replica's engine assigns and pages at once (the others hear open_incident's NOTIFY).
    engine.opened()
    return IncidentRead.model_validate(outcome.incident)


@router.post(
    "/batch",
    summary="Open many incidents in one request (at most 100; the platform's own calls): a result per item",
    description=(
        "alert-ingestion sends the creates it owes together. Each item is a body of `POST /api/v1/incidents`,"
        " validated and opened as that route would alone, and answers its own `status_code`: 201 opened, 200"
        " its `id` exists already (the incident as stored is unchanged), 422 refused with `detail`. The opened"
        " ones commit together in one transaction; a refusal changes nothing of the others."
    ),
    responses=error_responses(422, s422="not a list of 1 to 100 items (an invalid item is answered in its result)"),
)
async def create_incidents(
    body: IncidentBatchCreate, principal: Platform, session: SessionDep, clock: ClockDep, engine: EngineDep
) -> IncidentBatchResult:
    # One request and one commit for many incidents: at 50 new incidents a second the
    # per-request cost (HTTP, FastAPI, a transaction) of one create each was most of the CPU.
    now = clock.now()

    async def create(valid: list[IncidentCreate]) -> list[Outcome | DomainError]:
        async with session.begin():
            return await use_cases.create_incidents(
                session, requests=[_create_request(item, principal, now) for item in valid]
            )

    def answer(item: IncidentCreate, outcome: Outcome | DomainError) -> IncidentBatchItemResult:
        if isinstance(outcome, DomainError):
            return IncidentBatchItemResult(status_code=422, id=item.id, detail=str(outcome.detail))
        if outcome.created:
            observe_outcome(severity=item.severity, created=True, mtta=None, mttr=None)
        return IncidentBatchItemResult(status_code=201 if outcome.created else 200, id=outcome.incident.id)

    results = await per_item(
        body.items,
        IncidentCreate,
        refused=lambda raw, exc: IncidentBatchItemResult(status_code=422, id=_item_id(raw), detail=first_error(exc)),
        run=create,
        answer=answer,
    )
    if any(result.status_code == 201 for result in results):
        engine.opened()  # once for the batch: the assignment loop takes them all in one go
    return IncidentBatchResult(results=results)


def _create_request(body: IncidentCreate, principal: Principal, now: datetime) -> dict[str, Any]:
    """create_incident()'s arguments for one create body: the actor it is recorded under, and
    its opening moment (`opened_at`, never later than now)."""
    return {
        "incident_id": body.id,
        "title": body.title,
        "service": body.service,
        "severity": body.severity,
        "description": body.description,
        "team": body.team,
        "assigned_to": body.assigned_to,
        "actor": actor_of(principal, body.acting_integration),
        "now": min(as_utc(body.opened_at) or now, now),
    }


def _item_id(item: dict[str, object]) -> uuid.UUID | None:
    """An invalid item's `id`, when it has a readable one, so the caller can tell which it was."""
    try:
        return uuid.UUID(str(item.get("id")))
    except ValueError:
        return None


@router.get(
    "",
    summary="List incidents: text search, filters, sorting, stable pagination",
    responses=error_responses(422, s422="invalid input, or `assignee=me` from a caller who is not a user"),
)
async def list_incidents(
    session: SessionDep,
    principal: Viewer,
    q: Annotated[
        SearchText | None,
        Query(
            description="text the title, the service, or an alert's source or labels contain (any case);"
            " 3 characters or more use the trigram index"
        ),
    ] = None,
    status_in: Annotated[list[Status], Query(alias="status")] = [],  # noqa: B006 - FastAPI copies defaults
    severity: Annotated[list[Severity], Query()] = [],  # noqa: B006
    service: NulFree | None = None,
    team: NulFree | None = None,
    assignee: Annotated[
        NulFree | None, Query(description="a user id, `none` for unassigned, or `me` for the caller")
    ] = None,
    since: Annotated[UtcDatetime | None, Query(description="created at or after")] = None,
    until: Annotated[UtcDatetime | None, Query(description="created before")] = None,
    sort: Sort = "-created_at",
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Offset = 0,
) -> IncidentPage:
    if assignee == "me":
        assignee = str(me(principal))
    found = await queries.list_incidents(
        session,
        q=q,
        statuses=[s.value for s in status_in],
        severities=severity,
        service=service,
        team=team,
        assignee=assignee,
        created_after=as_utc(since),
        created_before=as_utc(until),
        sort=sort,
        limit=limit,
        offset=offset,
    )
    return IncidentPage(
        items=[IncidentRead.model_validate(i) for i in found.items],
        total=found.total,
        total_capped=found.capped,
        limit=limit,
        offset=offset,
    )


@router.get(
    "/{incident_id}", summary="An incident with its alerts, notes, timeline and pages", dependencies=[Depends(VIEWER)]
)
async def read_incident(incident_id: uuid.UUID, session: SessionDep) -> IncidentDetail:
    incident = await queries.get_incident(session, incident_id=incident_id)
    if incident is None:
        raise NotFound(f"Incident {incident_id} not found")
    alerts, truncated = await alerts_of(session, incident_id=incident_id)
    return IncidentDetail(
        **IncidentRead.model_validate(incident).model_dump(),
        alerts=alerts,
        alerts_truncated=truncated,
        notes=[NoteRead.model_validate(n) for n in await queries.notes(session, incident_id=incident_id)],
        timeline=[TimelineRead.model_validate(t) for t in await queries.timeline(session, incident_id=incident_id)],
        pages=[PageRead.model_validate(p) for p in await pages.pages(session, incident_id=incident_id)],
    )


@router.patch(
    "/{incident_id}",
    summary="Change status, assignee or add a note",
    responses={
        409: {"description": "Illegal transition or a concurrent change; body has current_status"},
        **error_responses(
            422, s422="invalid input, or `assigned_to` names no user who may act (a responder or admin, not disabled)"
        ),
    },
)
async def update_incident(
    incident_id: uuid.UUID,
    body: IncidentUpdate,
    principal: Responder,
    session: SessionDep,
    clock: ClockDep,
    engine: EngineDep,
) -> IncidentRead:
    async with session.begin():
        outcome = await use_cases.change_incident(
            session,
            incident_id=incident_id,
            status=body.status,
            assign="assigned_to" in body.model_fields_set,
            assigned_to=body.assigned_to,
            note=body.note,
            actor=actor_of(principal, body.acting_integration),
            expected_version=body.version,
            now=clock.now(),
        )
    return changed(outcome, engine)


@router.post(
    "/bulk",
    summary="Acknowledge, resolve or reassign many incidents; a result per incident",
    description=(
        "Each incident is changed as `PATCH /api/v1/incidents/{id}` would change it alone, and answers its own"
        " `status`: 200 with the incident, 404, 409 when it moved on (already acknowledged, resolved), 422 for an"
        " assignee who may not act. The ones that succeed are committed together; a refusal changes only its own."
    ),
    responses=error_responses(
        422,
        s422="invalid input: no ids, more than 100, repeated ids, or `assigned_to` not given with exactly `reassign`",
    ),
)
async def bulk_change(
    body: BulkRequest, principal: Responder, session: SessionDep, clock: ClockDep, engine: EngineDep
) -> BulkResult:
    async with session.begin():
        results = await bulk.bulk_change(
            session,
            incident_ids=body.ids,
            action=body.action,
            assigned_to=body.assigned_to,
            actor=actor_of(principal),
            now=clock.now(),
        )
    items = [
        BulkItemResult(id=r.incident_id, status=200, incident=changed(r.outcome, engine))
        if r.outcome is not None
        else BulkItemResult(id=r.incident_id, status=r.error.status_code, detail=str(r.error.detail))
        for r in results
    ]
    succeeded = sum(1 for item in items if item.status == 200)
    responder_action(f"bulk_{body.action}", succeeded)
    return BulkResult(action=body.action, results=items, succeeded=succeeded, failed=len(items) - succeeded)


@router.post(
    "/{incident_id}/snooze",
    summary="Snooze an acknowledged incident: it reopens and pages again when the snooze ends",
    responses={
        409: {"description": "The incident is not acknowledged; body has current_status"},
        **error_responses(404, 422, s404="no such incident", s422="minutes not between 1 and 10080"),
    },
)
async def snooze_incident(
    incident_id: uuid.UUID, body: SnoozeCreate, principal: Responder, session: SessionDep, clock: ClockDep
) -> IncidentRead:
    async with session.begin():
        incident = await snooze.snooze(
            session, incident_id=incident_id, minutes=body.minutes, actor=actor_of(principal), now=clock.now()
        )
    responder_action("snoozed")
    return IncidentRead.model_validate(incident)


def changed(outcome: Outcome, engine: IncidentEngine) -> IncidentRead:
    """The answer to a committed change: its MTTA and MTTR counted, the engine woken for a page it queued."""
    observe_outcome(
        severity=outcome.incident.severity, created=False, mtta=outcome.mtta_seconds, mttr=outcome.mttr_seconds
    )
    if outcome.paged:
        engine.wake()
    return IncidentRead.model_validate(outcome.incident)


@router.post("/{incident_id}/notes", status_code=status.HTTP_201_CREATED, summary="Add a note")
async def add_note(
    incident_id: uuid.UUID, body: NoteCreate, principal: Responder, session: SessionDep, clock: ClockDep
) -> NoteRead:
    async with session.begin():
        note = await use_cases.add_note(
            session, incident_id=incident_id, author=actor_of(principal), body=body.body, now=clock.now()
        )
    return NoteRead.model_validate(note)


@router.post(
    "/{incident_id}/escalate",
    status_code=status.HTTP_202_ACCEPTED,
    summary="Escalate now: page the next level of the policy",
    description=(
        "Pages the next level of the incident's escalation policy now (the engine does it at once, with whoever"
        " is on call then); the page says 'manual escalation by <you>'. An acknowledged incident goes back to"
        " triggered. Answers the incident as it is once the request is recorded; the timeline shows the pages."
    ),
    responses={
        409: {"description": "The incident is not open or acknowledged, or no policy escalates it"},
        **error_responses(404, s404="no such incident"),
    },
)
async def escalate_incident(
    incident_id: uuid.UUID, principal: Responder, session: SessionDep, clock: ClockDep, engine: EngineDep
) -> IncidentRead:
    async with session.begin():
        incident = await use_cases.escalate_now(
            session, incident_id=incident_id, actor=actor_of(principal), now=clock.now()
        )
    engine.wake()
    return IncidentRead.model_validate(incident)


@router.get("/{incident_id}/notes", summary="The incident's notes, oldest first", dependencies=[Depends(VIEWER)])
async def list_notes(incident_id: uuid.UUID, session: SessionDep) -> list[NoteRead]:
    if await queries.get_incident(session, incident_id=incident_id) is None:
        raise NotFound(f"Incident {incident_id} not found")
    return [NoteRead.model_validate(n) for n in await queries.notes(session, incident_id=incident_id)]


@router.get("/{incident_id}/timeline", summary="The incident's timeline, oldest first", dependencies=[Depends(VIEWER)])
async def list_timeline(incident_id: uuid.UUID, session: SessionDep) -> list[TimelineRead]:
    if await queries.get_incident(session, incident_id=incident_id) is None:
        raise NotFound(f"Incident {incident_id} not found")
    return [TimelineRead.model_validate(t) for t in await queries.timeline(session, incident_id=incident_id)]


@router.get(
    "/{incident_id}/pages",
    summary="Pages sent (or waiting to be sent) for the incident",
    dependencies=[Depends(VIEWER)],
)
async def list_pages(incident_id: uuid.UUID, session: SessionDep) -> list[PageRead]:
    if await queries.get_incident(session, incident_id=incident_id) is None:
        raise NotFound(f"Incident {incident_id} not found")
    return [PageRead.model_validate(p) for p in await pages.pages(session, incident_id=incident_id)]


@router.get(
    "/{incident_id}/metrics", summary="Response times and activity of one incident", dependencies=[Depends(VIEWER)]
)
async def incident_metrics(
    incident_id: uuid.UUID, session: SessionDep, clock: ClockDep, settings: SettingsDep
) -> IncidentMetrics:
    incident = await queries.get_incident(session, incident_id=incident_id)
    if incident is None:
        raise NotFound(f"Incident {incident_id} not found")
    counts = await queries.timeline_counts(session, incident_id=incident_id)
    end = incident.resolved_at or clock.now()
    return IncidentMetrics(
        id=incident.id,
        status=incident.status,
        severity=incident.severity,
        created_at=incident.created_at,
        acknowledged_at=incident.acknowledged_at,
        resolved_at=incident.resolved_at,
        mtta_seconds=incident.mtta_seconds,
        mttr_seconds=incident.mttr_seconds,
        open_seconds=max(0.0, (end - incident.created_at).total_seconds()),
        alert_count=incident.alert_count,
        escalation_level=incident.escalation_level,
        escalations=counts.get("escalated", 0),
        pages_sent=counts.get("paged", 0),
        notes=counts.get("note_added", 0),
        timeline_events=sum(counts.values()),
    )
