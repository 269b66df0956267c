"""Walking an escalation policy: who is on call, who is paged first, which level
pages next, and when."""

import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from incident_management.domain.rules import DEFAULT_HIGH_URGENCY, RuleStep

# The step of a page to the primary on call when no policy applies.
PRIMARY_STEP = "primary"


@dataclass(frozen=True)
class Person:
    """A user as oncall-service names them."""

    id: str
    name: str
    email: str | None = None
    # Where and what they take pages on, as oncall-service answered; passed on to
    # notification-service with each page (None: oncall-service did not say).
    contact: dict[str, Any] | None = None
    # Their notification rules (empty: every contact method at once).
    rules: tuple[RuleStep, ...] = ()

    @property
    def label(self) -> str:
        """How the timeline and pages name them: their name, else their id (the
        entries' data keep the ids)."""
        return self.name or self.id


@dataclass(frozen=True)
class ChainLevel:
    """One level of an escalation chain as oncall-service answers it."""

    level: int
    delay_minutes: float
    users: tuple[Person, ...]
    # The names of the level's targets (schedules, users), to say which level it is.
    target_names: tuple[str, ...] = ()


@dataclass(frozen=True)
class OnCall:
    """Who is on call at `at` and the chain to escalate along (empty without a policy)."""

    primary: Person | None
    policy_id: str | None = None
    policy_name: str | None = None
    repeat_count: int = 0
    levels: tuple[ChainLevel, ...] = field(default_factory=tuple)
    # The service's severities paged with the high-urgency rules.
    high_urgency_severities: tuple[str, ...] = DEFAULT_HIGH_URGENCY
    # The service's acknowledgement timeout in minutes (None: off).
    acknowledgement_timeout_minutes: int | None = None

    @property
    def assignee(self) -> Person | None:
        """Who owns a new incident: the primary on call, else the first person of the
        first level with anybody on call (the one paged first)."""
        first = next((level.users for level in self.levels if level.users), ())
        return self.primary or (first[0] if first else None)

    @property
    def policy_uuid(self) -> uuid.UUID | None:
        """The policy's id as an incident keeps it; None without one, or when it is not a UUID."""
        try:
            return uuid.UUID(self.policy_id) if self.policy_id else None
        except ValueError:
            return None


@dataclass(frozen=True)
class Step:
    """A position in a policy: `level` (0-based) in repetition `cycle` (0 = first pass)."""

    level: int
    cycle: int = 0

    @property
    def key(self) -> str:
        """Names the step in page idempotency keys; each repetition pages again."""
        return f"level-{self.level}-cycle-{self.cycle}"


@dataclass(frozen=True)
class Pages:
    """Who one step pages, and when the incident moves on unless acknowledged (None:
    never); the step itself (None without a policy) and the levels passed over on
    the way for having nobody on call."""

    step_key: str
    recipients: tuple[Person, ...]
    escalate_at: datetime | None
    step: Step | None = None
    skipped: tuple[int, ...] = ()


def next_step(current: Step, *, level_count: int, repeat_count: int) -> Step | None:
    """The step after `current`, or None when the policy is exhausted.

    After the last level the policy starts again at level 0, `repeat_count`
    times (PagerDuty's `num_loops`). A policy that lost levels since the
    incident entered it continues from its last level.
    """
    if level_count <= 0:
        return None
    if current.level + 1 < level_count:
        return Step(current.level + 1, current.cycle)
    if current.cycle < max(0, repeat_count):
        return Step(0, current.cycle + 1)
    return None


def next_staffed_step(current: Step, oncall: OnCall) -> tuple[Step | None, list[int]]:
    """The next step with somebody on call (None: the policy is exhausted), and
    the levels passed over on the way for having nobody."""
    levels, repeats = oncall.levels, oncall.repeat_count
    step = next_step(current, level_count=len(levels), repeat_count=repeats)
    skipped: list[int] = []
    # The bound guards a policy whose levels are all empty.
    for _ in range(len(levels) * (repeats + 1)):
        if step is None or levels[step.level].users:
            break
        skipped.append(step.level)
        step = next_step(step, level_count=len(levels), repeat_count=repeats)
    if step is not None and not levels[step.level].users:
        step = None
    return step, skipped


def first_pages(oncall: OnCall, now: datetime) -> Pages:
    """Who a new, unacknowledged incident pages first: the policy's first level with
    somebody on call, at once (a level with nobody is passed over, it must not make
    the next one wait), whose delay starts now; without a policy, the assignee
    alone, and nothing escalates. Nobody anywhere: no page, and nothing to wait for."""
    if not oncall.levels:
        assignee = oncall.assignee
        return Pages(PRIMARY_STEP, (assignee,) if assignee else (), None)
    step: Step | None = Step(0, 0)
    skipped: list[int] = []
    if not oncall.levels[0].users:
        step, skipped = next_staffed_step(Step(0, 0), oncall)
        skipped = [0, *skipped]
    if step is None:
        return Pages(Step(0, 0).key, (), None, None, tuple(skipped))
    level = oncall.levels[step.level]
    deadline = escalation_deadline(now, delay_minutes=level.delay_minutes)
    return Pages(step.key, level.users, deadline, step, tuple(skipped))


def renotify_step(current: Step, oncall: OnCall) -> tuple[Step | None, list[int]]:
    """Whom an acknowledgement that timed out pages again: the level the incident
    is at, or the next one with somebody on call if nobody is at it now."""
    levels = oncall.levels
    if 0 <= current.level < len(levels) and levels[current.level].users:
        return current, []
    if not levels:
        return None, []
    step, skipped = next_staffed_step(current, oncall)
    return step, ([current.level] if current.level < len(levels) else []) + skipped


def acknowledgement_deadline(timeout_minutes: int | None, now: datetime) -> datetime | None:
    """When an acknowledgement made or touched at `now` runs out (None: it never does)."""
    return now + timedelta(minutes=timeout_minutes) if timeout_minutes else None


def escalation_deadline(now: datetime, *, delay_minutes: float) -> datetime:
    """When an unacknowledged incident paged at `now` moves on: after the level's
    delay. After the last step this is when the policy is declared exhausted."""
    return now + timedelta(minutes=max(0.0, delay_minutes))


def page_key(incident_id: str, step_key: str, recipient: str) -> str:
    """The idempotency key of one page: one per (incident, step, user)."""
    return f"incident:{incident_id}:{step_key}:{recipient}"
