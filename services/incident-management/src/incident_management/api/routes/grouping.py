"""Correcting how alerts were grouped: merge incidents, split alerts out, and
alert-ingestion's report that an alert joined an acknowledged incident."""

import uuid

from fastapi import APIRouter, Depends, status

from incident_management.api.deps import ClockDep, EngineDep, SessionDep, actor_of
from incident_management.api.schemas import AlertJoined, AlertJoinedRecorded, IncidentMerge, IncidentRead, IncidentSplit
from incident_management.metrics import observe_outcome, responder_action
from incident_management.usecases import grouping
from platform_common.auth import PLATFORM_ONLY, Responder
from platform_common.errors import error_responses

router = APIRouter(prefix="/api/v1/incidents", tags=["incidents"])


@router.post(
    "/{incident_id}/merge",
    summary="Fold other incidents into this one",
    description=(
        "The alerts of `incident_ids` move into this incident (each alert's `reason` then says it was merged, and"
        " by whom); each of those incidents is resolved with `merged_into` naming this one, and both timelines say"
        " so. This incident keeps its own times, MTTA and MTTR. Answers this incident."
    ),
    responses={
        404: {"description": "No such incident"},
        409: {"description": "This incident or one to merge is resolved already"},
        **error_responses(422, s422="an incident to merge does not exist, or is this one"),
    },
)
async def merge_incidents(
    incident_id: uuid.UUID,
    body: IncidentMerge,
    principal: Responder,
    session: SessionDep,
    clock: ClockDep,
) -> IncidentRead:
    async with session.begin():
        merged = await grouping.merge_incidents(
            session, survivor_id=incident_id, merged_ids=body.incident_ids, actor=actor_of(principal), now=clock.now()
        )
    responder_action("merged", len(merged.resolved))
    for outcome in merged.resolved:
        observe_outcome(
            severity=outcome.incident.severity, created=False, mtta=outcome.mtta_seconds, mttr=outcome.mttr_seconds
        )
    return IncidentRead.model_validate(merged.survivor)


@router.post(
    "/{incident_id}/split",
    status_code=status.HTTP_201_CREATED,
    summary="Move alerts out into a new incident",
    description=(
        "The chosen alerts move into a new incident (named after the first of them, at their highest severity),"
        " which is assigned and paged as any new incident; both timelines say so and each moved alert's `reason`"
        " says it was split out, and by whom. At least one alert stays. Answers the new incident."
    ),
    responses={
        404: {"description": "No such incident"},
        409: {"description": "The incident is resolved"},
        **error_responses(422, s422="an alert is not this incident's, or every alert of it was chosen"),
    },
)
async def split_incident(
    incident_id: uuid.UUID,
    body: IncidentSplit,
    principal: Responder,
    session: SessionDep,
    clock: ClockDep,
    engine: EngineDep,
) -> IncidentRead:
    async with session.begin():
        outcome = await grouping.split_incident(
            session, incident_id=incident_id, alert_ids=body.alert_ids, actor=actor_of(principal), now=clock.now()
        )
    observe_outcome(severity=outcome.incident.severity, created=True, mtta=None, mttr=None)
    responder_action("split")
    engine.wake()  # assign and page the new incident at once
    return IncidentRead.model_validate(outcome.incident)


@router.post(
    "/{incident_id}/alert-joined",
    summary="An alert joined this incident after it was acknowledged (alert-ingestion's report)",
    description=(
        "Recorded in the timeline once per alert; the assignee gets a notice through the page outbox."
        " The platform's own call."
    ),
    responses={404: {"description": "No such incident or alert"}},
    dependencies=[Depends(PLATFORM_ONLY)],
)
async def alert_joined(
    incident_id: uuid.UUID, body: AlertJoined, session: SessionDep, clock: ClockDep, engine: EngineDep
) -> AlertJoinedRecorded:
    async with session.begin():
        recorded, notified = await grouping.record_alert_joined(
            session, incident_id=incident_id, alert_id=body.alert_id, now=clock.now()
        )
    if notified:
        engine.wake()
    return AlertJoinedRecorded(recorded=recorded, notified=notified)
