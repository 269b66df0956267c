"""The timeline's words: who did something to an incident, and the entry each
responder's change makes. Pure: the use cases decide what happened and hand the
entries of one change to `db.queries.record`, which writes them together."""

import uuid
from dataclasses import dataclass, field
from typing import Any

from incident_management.domain.state import Lifecycle, Status

STATUS_EVENTS = {
    Status.ACKNOWLEDGED: "Acknowledged",
    Status.IN_PROGRESS: "Work started",
    Status.RESOLVED: "Resolved",
}
NOTE_PREVIEW = 200


@dataclass(frozen=True)
class Actor:
    """A name to show, and the id of the user or integration behind it (None:
    the platform itself, such as the engine assigning or escalating)."""

    name: str
    id: uuid.UUID | None = None


ENGINE = Actor("incident-management")
NOTIFICATIONS = Actor("notification-service")


@dataclass(frozen=True)
class Entry:
    """One timeline entry before it is written (the time is the change's)."""

    actor: Actor
    event_type: str
    message: str
    data: dict[str, Any] = field(default_factory=dict)


def status_changed(lifecycle: Lifecycle, previous: str, actor: Actor, *, pages_cancelled: int) -> Entry:
    """A move through the state machine, with the MTTA it fixed (only when it
    answered an open incident) and the MTTR of a resolution."""
    data: dict[str, Any] = {"from": previous, "to": lifecycle.status.value}
    if lifecycle.mtta_seconds is not None and previous == Status.OPEN:
        data["mtta_seconds"] = lifecycle.mtta_seconds
    if lifecycle.status is Status.RESOLVED:
        data["mttr_seconds"] = lifecycle.mttr_seconds
    if pages_cancelled:
        data["pages_cancelled"] = pages_cancelled
    message = f"{STATUS_EVENTS[lifecycle.status]} by {actor.name}"
    return Entry(actor, lifecycle.status.value, message, data)


def assigned_at_opening(assignee: Actor, actor: Actor) -> Entry:
    """The person chosen when the incident was opened (on-call is then not asked)."""
    return Entry(actor, "assigned", f"Assigned to {assignee.name}", {"assigned_to": str(assignee.id)})


def reassigned(assignee: Actor | None, previous: str | None, actor: Actor) -> Entry:
    """A responder chose the assignee (None: nobody); named in words, the id in the data."""
    data = {"assigned_to": str(assignee.id) if assignee else None, "previous": previous}
    if assignee is None:
        return Entry(actor, "unassigned", f"Unassigned by {actor.name}", data)
    return Entry(actor, "assigned", f"Assigned to {assignee.name} by {actor.name}", data)


def note_added(note_id: uuid.UUID, body: str, author: Actor) -> Entry:
    """A note, previewed: the timeline is a summary, the note itself is kept whole."""
    preview = body if len(body) <= NOTE_PREVIEW else body[: NOTE_PREVIEW - 3] + "..."
    return Entry(author, "note_added", f"Note by {author.name}: {preview}", {"note_id": str(note_id)})
