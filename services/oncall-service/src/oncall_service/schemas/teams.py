"""Teams, their members, and the services they own."""

import uuid
from typing import Annotated

from pydantic import AfterValidator, Field

from oncall_service.schemas.common import Description, Input, Name, Output, Stamped, UserRef
from platform_db.enums import Severity, TeamRole


def _unique(values: list[str]) -> list[str]:
    return list(dict.fromkeys(values))


HighUrgency = Annotated[list[Severity], Field(max_length=5), AfterValidator(_unique)]


class TeamMemberIn(Input):
    user_id: uuid.UUID
    role: TeamRole = "member"


class TeamMemberRole(Input):
    role: TeamRole = "member"


class TeamMemberRead(Output):
    user: UserRef
    role: str


class TeamCreate(Input):
    name: Name
    description: Description = ""
    escalation_policy_id: uuid.UUID | None = None
    members: list[TeamMemberIn] = Field(default_factory=list, max_length=500)


class TeamUpdate(Input):
    name: Name | None = None
    description: Description | None = None
    # Explicit null detaches the policy; leaving the field out keeps it.
    escalation_policy_id: uuid.UUID | None = None
    members: list[TeamMemberIn] | None = Field(default=None, max_length=500)


class TeamRead(Stamped):
    id: uuid.UUID
    name: str
    description: str
    escalation_policy_id: uuid.UUID | None
    members: list[TeamMemberRead]


AckTimeout = Field(
    default=None,
    ge=1,
    le=10080,
    description=(
        "Minutes an acknowledged incident may stay untouched before it returns to triggered and pages again"
        " (re-notify); null: never"
    ),
)


class ServiceCreate(Input):
    name: Name
    description: Description = ""
    team_id: uuid.UUID | None = None
    escalation_policy_id: uuid.UUID | None = None
    # Incidents of these severities page with their people's high-urgency rules, the rest with the low ones.
    high_urgency_severities: HighUrgency = Field(default_factory=lambda: ["critical", "high"])
    acknowledgement_timeout_minutes: int | None = AckTimeout


class ServiceUpdate(Input):
    name: Name | None = None
    description: Description | None = None
    team_id: uuid.UUID | None = None
    escalation_policy_id: uuid.UUID | None = None
    high_urgency_severities: HighUrgency | None = None
    acknowledgement_timeout_minutes: int | None = AckTimeout


class ServiceRead(Stamped):
    id: uuid.UUID
    name: str
    description: str
    team_id: uuid.UUID | None
    escalation_policy_id: uuid.UUID | None
    high_urgency_severities: list[Severity]
    acknowledgement_timeout_minutes: int | None
