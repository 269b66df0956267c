"""Walking an escalation policy: which level pages next, and when."""

from dataclasses import dataclass
from datetime import datetime, timedelta


@dataclass(frozen=True)
class Step:
    """A position in a policy: `level` (0-based) in repetition `cycle` (0 = first pass)."""

    level: int
    cycle: int = 0

    @property
    def key(self) -> str:
        """Names the step in page idempotency keys; each repetition pages again."""
        return f"level-{self.level}-cycle-{self.cycle}"


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


def escalation_deadline(now: datetime, *, delay_minutes: float) -> datetime:
    """When an unacknowledged incident paged at `now` moves on: after the level's
    delay. After the last step this is when the policy is declared exhausted."""
    return now + timedelta(minutes=max(0.0, delay_minutes))


def page_key(incident_id: str, step_key: str, recipient: str) -> str:
    """The idempotency key of one page: one per (incident, step, user)."""
    return f"incident:{incident_id}:{step_key}:{recipient}"
