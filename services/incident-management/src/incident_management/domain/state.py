"""The incident state machine and the MTTA/MTTR it implies, as one pure function."""

from dataclasses import dataclass, replace
from datetime import datetime

# The statuses the incidents table accepts, named once for the database and this machine.
from platform_db.enums import IncidentStatus as Status

# open -> acknowledged -> in_progress -> resolved; open and acknowledged may
# resolve directly; resolved is final. A move to the same status is illegal
# too: that is what makes the second of two racing acknowledgements lose.
ALLOWED: dict[Status, frozenset[Status]] = {
    Status.OPEN: frozenset({Status.ACKNOWLEDGED, Status.RESOLVED}),
    Status.ACKNOWLEDGED: frozenset({Status.IN_PROGRESS, Status.RESOLVED}),
    Status.IN_PROGRESS: frozenset({Status.RESOLVED}),
    Status.RESOLVED: frozenset(),
}


class InvalidTransition(Exception):
    """The state machine refuses this status change."""

    def __init__(self, current: Status, target: Status) -> None:
        allowed = ", ".join(sorted(ALLOWED[current])) or "none (resolved is final)"
        super().__init__(f"Cannot move an incident from {current} to {target}; allowed: {allowed}")
        self.current = current
        self.target = target


@dataclass(frozen=True)
class Lifecycle:
    """The part of an incident the state machine reads and writes."""

    status: Status
    created_at: datetime
    acknowledged_at: datetime | None = None
    resolved_at: datetime | None = None
    mtta_seconds: float | None = None
    mttr_seconds: float | None = None


def _seconds_since(start: datetime, now: datetime) -> float:
    # Never negative: a row written by another process's clock may be slightly ahead of ours.
    return max(0.0, (now - start).total_seconds())


def transition(state: Lifecycle, target: Status, now: datetime) -> Lifecycle:
    """Move `state` to `target` at `now`, or raise InvalidTransition.

    MTTA is fixed on the first move out of `open` (an incident back to `open`,
    by a snooze's end or an acknowledgement timeout, keeps its first); MTTR on
    `resolved`; an incident resolved straight from `open` the first time gets
    MTTA = MTTR.
    """
    target = Status(target)
    if target not in ALLOWED[state.status]:
        raise InvalidTransition(state.status, target)
    result = replace(state, status=target)
    if state.status is Status.OPEN and state.acknowledged_at is None:
        result = replace(result, acknowledged_at=now, mtta_seconds=_seconds_since(state.created_at, now))
    if target is Status.RESOLVED:
        result = replace(result, resolved_at=now, mttr_seconds=_seconds_since(state.created_at, now))
    return result


def is_paging(status: Status) -> bool:
    """Only an unacknowledged incident pages and escalates."""
    return Status(status) is Status.OPEN
