"""Notification rules: per urgency, the ordered steps by which a user is paged."""

import uuid
from typing import Self

from pydantic import Field, model_validator

from oncall_service.schemas.common import Input, Output
from oncall_service.schemas.users import ContactMethodRead


class RuleStepIn(Input):
    # Minutes after the page starts (0: at once); at most a day.
    delay_minutes: int = Field(ge=0, le=1440)
    contact_method_id: uuid.UUID


def _ordered(steps: list[RuleStepIn], urgency: str) -> None:
    delays = [step.delay_minutes for step in steps]
    if delays != sorted(delays):
        raise ValueError(f"the {urgency}-urgency steps must be in order of their delays")


class NotificationRulesIn(Input):
    """Every step of both urgencies; replaces what the user had. An empty list
    means every contact method at once for that urgency."""

    high: list[RuleStepIn] = Field(default_factory=list, max_length=20)
    low: list[RuleStepIn] = Field(default_factory=list, max_length=20)

    @model_validator(mode="after")
    def _steps_in_order(self) -> Self:
        _ordered(self.high, "high")
        _ordered(self.low, "low")
        return self


class RuleStepRead(Output):
    id: uuid.UUID
    delay_minutes: int
    contact_method_id: uuid.UUID
    contact_method: ContactMethodRead


class NotificationRulesRead(Output):
    user_id: uuid.UUID
    high: list[RuleStepRead]
    low: list[RuleStepRead]


class TestPageSent(Output):
    """What notification-service made of a test page: one delivery."""

    status: str
    notification_ids: list[str]
