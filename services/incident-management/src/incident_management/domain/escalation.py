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
        """How the timeline names them: name, else email, else id."""
        return f"{self.name} ({self.id})" if self.name and self.name != self.id else self.id


@dataclass(frozen=True)
class ChainLevel:
    """One level of an escalation chain as oncall-service answers it."""

    level: int
    delay_minutes: float
    users: tuple[Person, ...]


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

    @property
    def assignee(self) -> Person | None:
        """Who owns a new incident: the primary on call, else the first person of the first level."""
        first = self.levels[0].users if self.levels else ()
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
    """Who one step pages, and when the incident moves on unless acknowledged (None: never)."""

    step_key: str
    recipients: tuple[Person, ...]
    escalate_at: datetime | None


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
    """Who a new, unacknowledged incident pages first: the policy's first level,
    whose delay starts now (none when nobody is at that level: the next one must
    not wait for it); without a policy, the assignee alone, and nothing escalates."""
    if not oncall.levels:
        assignee = oncall.assignee
        return Pages(PRIMARY_STEP, (assignee,) if assignee else (), None)
    first = oncall.levels[0]
    delay = first.delay_minutes if first.users else 0
    return Pages(Step(0, 0).key, first.users, escalation_deadline(now, delay_minutes=delay))


def escalation_deadline(now: datetime, *, delay_minutes: float) -> datetime:
    """When an unacknowledged incident paged at `now` moves on: after the level's
    delay. After the last step this is when the policy is declared exhausted."""
    return now + timedelta(minutes=max(0.0, delay_minutes))


def page_key(incident_id: str, step_key: str, recipient: str) -> str:
    """The idempotency key of one page: one per (incident, step, user)."""
    return f"incident:{incident_id}:{step_key}:{recipient}"
