"""A person's notification rules applied to one page, and the notices told to the
people already paged: which contact methods, when, under which step key."""

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

# Without a setting from oncall-service: PagerDuty's and the platform's default.
DEFAULT_HIGH_URGENCY = ("critical", "high")
# Step keys of notices (acknowledged, reassigned, resolved): told once, never
# cancelled by the change they tell of, never themselves a reason to notice.
NOTICE_PREFIX = "notice-"
# Marks the step key of each step of a person's rules ("<step>/rule-<n>").
RULE_STEP = "/rule-"


@dataclass(frozen=True)
class RuleStep:
    """After `delay_minutes` from the page, `contact_method` (type and address)."""

    urgency: str
    delay_minutes: float
    contact_method: dict[str, str]


@dataclass(frozen=True)
class PlannedPage:
    """One row of the outbox: to `recipient` under `step_key`, due at `due_at`, over `contact`
    (None: looked up as it goes out)."""

    recipient: str
    step_key: str
    contact: dict[str, Any] | None
    due_at: datetime


def urgency_of(severity: str, high_urgency_severities: tuple[str, ...]) -> str:
    """high for the service's high-urgency severities, else low."""
    return "high" if severity in high_urgency_severities else "low"


def plan_person(
    *,
    recipient: str,
    step_key: str,
    contact: dict[str, Any] | None,
    rules: tuple[RuleStep, ...],
    urgency: str,
    now: datetime,
) -> list[PlannedPage]:
    """The pages one person gets for one step. Without rules for this urgency: one
    page to every contact method at once (the step key as before). With rules: one
    page per step, due after its delay, to that step's contact method only; an
    acknowledgement cancels those not yet sent."""
    steps = [rule for rule in rules if rule.urgency == urgency]
    if not steps or contact is None:
        return [PlannedPage(recipient, step_key, contact, now)]
    return [
        PlannedPage(
            recipient,
            f"{step_key}{RULE_STEP}{position}",
            {**contact, "contact_methods": [step.contact_method]},
            now + timedelta(minutes=max(0.0, step.delay_minutes)),
        )
        for position, step in enumerate(steps)
    ]


def notice_step(event: str, version: int) -> str:
    """The step key of the notice of one change (the incident's version after it): told once."""
    return f"{NOTICE_PREFIX}{event}-v{version}"


def is_notice(step_key: str) -> bool:
    """Whether a page is a notice (acknowledged, reassigned, resolved) rather than a page."""
    return step_key.startswith(NOTICE_PREFIX)


def notice_recipients(paged: list[str], *, except_ids: set[str]) -> list[str]:
    """Who a notice goes to: everyone paged for the incident, once each, in order,
    except those who need not be told (who made the change, the new assignee)."""
    return [user for user in dict.fromkeys(paged) if user not in except_ids]


def first_method_only(contact: dict[str, Any]) -> dict[str, Any]:
    """A notice goes by the first contact method alone: it informs, it does not page."""
    methods = contact.get("contact_methods") or []
    return {**contact, "contact_methods": methods[:1]}
