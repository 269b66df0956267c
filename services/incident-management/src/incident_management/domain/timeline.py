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


def _alerts(count: int) -> str:
    return f"{count} alert{'s' if count != 1 else ''}"


def _quoted(title: str, limit: int = 120) -> str:
    return '"' + (title if len(title) <= limit else title[: limit - 1] + "…") + '"'


def merge_reason(merged_title: str, actor: Actor) -> str:
    """Why an alert moved by a merge is in the survivor (stored on the alert)."""
    return f"merged from {_quoted(merged_title)} by {actor.name}"


def split_reason(source_title: str, actor: Actor) -> str:
    """Why an alert split out is in its new incident (stored on the alert)."""
    return f"split out of {_quoted(source_title)} by {actor.name}"


def merged_into(survivor_id: uuid.UUID, survivor_title: str, moved: int, actor: Actor) -> Entry:
    """On a merged incident: where its alerts went."""
    message = f"Merged into {_quoted(survivor_title)} by {actor.name} ({_alerts(moved)} moved)"
    return Entry(actor, "merged_into", message, {"incident_id": str(survivor_id), "alerts_moved": moved})


def merged_from(merged_id: uuid.UUID, merged_title: str, moved: int, actor: Actor) -> Entry:
    """On the survivor: what was folded into it."""
    message = (
        f"Merged {_quoted(merged_title)} into this incident by {actor.name} ({moved} alert{'s' if moved != 1 else ''})"
    )
    return Entry(actor, "merged", message, {"incident_id": str(merged_id), "alerts_moved": moved})


def split_into(new_id: uuid.UUID, new_title: str, moved: int, actor: Actor) -> Entry:
    """On the incident split: where the alerts went."""
    message = f"{_alerts(moved)} split out into {_quoted(new_title)} by {actor.name}"
    return Entry(actor, "split", message, {"incident_id": str(new_id), "alerts_moved": moved})


def split_from(source_id: uuid.UUID, source_title: str, moved: int, actor: Actor) -> Entry:
    """On the new incident: where its alerts came from."""
    message = f"Split out of {_quoted(source_title)} by {actor.name} ({_alerts(moved)})"
    return Entry(actor, "split_from", message, {"incident_id": str(source_id), "alerts_moved": moved})


def alert_joined_notice(message: str, reason: str, acknowledged_by: str | None) -> str:
    """What the assignee is told when a new alert joins their acknowledged incident."""
    by = f" by {acknowledged_by}" if acknowledged_by else ""
    why = f": {reason}" if reason else ""
    return f"A new alert {_quoted(message)} joined this incident (already acknowledged{by}){why}"


def alert_joined(alert_id: uuid.UUID, message: str, reason: str, status: str, assignee: str | None) -> Entry:
    """A new alert joined the incident after it was acknowledged: said in the timeline, with who was told."""
    told = f"; {assignee} notified" if assignee else "; nobody is assigned to notify"
    text = f"New alert {_quoted(message)} joined while {status.replace('_', ' ')}: {reason}{told}"
    return Entry(
        Actor("alert-ingestion"),
        "alert_joined",
        text,
        {"alert_id": str(alert_id), "reason": reason, "notified": assignee},
    )
