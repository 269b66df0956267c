"""Snooze: an acknowledged incident goes quiet for a while, then reopens and pages again.

The end of a snooze is the one move back to `open`; no responder can make it
(the state machine in state.py stays forward-only), only the engine, when the
time has passed."""

from datetime import datetime, timedelta

from incident_management.domain.state import Status
from incident_management.domain.timeline import ENGINE, Actor, Entry


class NotSnoozable(Exception):
    """Only an acknowledged incident may be snoozed."""

    def __init__(self, status: str) -> None:
        super().__init__(f"Only an acknowledged incident can be snoozed; this one is {status}")
        self.status = status


def snooze_until(status: str, minutes: int, now: datetime) -> datetime:
    """When a snooze of `minutes` from `now` ends; NotSnoozable unless the incident is acknowledged."""
    if Status(status) is not Status.ACKNOWLEDGED:
        raise NotSnoozable(status)
    return now + timedelta(minutes=minutes)


def reopens(status: str) -> bool:
    """Whether an incident whose snooze ended goes back to open: only if still acknowledged
    (one resolved or worked on meanwhile keeps its status; its snooze is simply over)."""
    return Status(status) is Status.ACKNOWLEDGED


def snoozed(until: datetime, minutes: int, actor: Actor) -> Entry:
    """The timeline entry of a snooze."""
    message = f"Snoozed for {minutes} min, until {until:%Y-%m-%d %H:%M} UTC"
    return Entry(actor, "snoozed", message, {"minutes": minutes, "until": until.isoformat()})


def snooze_ended(assignee: str | None) -> Entry:
    """The timeline entry of a snooze's end: open again, and who is paged."""
    who = "the assignee is paged again" if assignee else "on-call is asked who to page"
    return Entry(ENGINE, "snooze_ended", f"Snooze ended: open again; {who}", {"assigned_to": assignee})


def escalation_not_restarted(oncall_error: str | None) -> Entry:
    """The timeline entry when a reopened incident has no escalation timer: only the assignee is paged."""
    why = oncall_error or "no escalation policy level applies to it any more"
    message = f"Escalation was not restarted ({why}): only the assignee is paged"
    return Entry(ENGINE, "escalation_stopped", message, {"reason": "snooze_ended"})
