"""Teams, their members, and the services they own."""

import uuid
from typing import Annotated

from pydantic import AfterValidator, Field, StringConstraints

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


# A field of an alert that grouping compares: its source, its message, or one of its labels.
GroupingField = Annotated[
    str, StringConstraints(pattern=r"^(source|message|labels\.[A-Za-z0-9_.:/-]{1,150})$", max_length=157)
]
WINDOW_DESCRIPTION = (
    "Minutes an incident opened by an alert of this service takes further alerts of the same severity"
    " (0: never group by window, not even alerts that arrive in the same instant; null: alert-ingestion's"
    " CORRELATION_WINDOW_MINUTES)"
)
FIELDS_DESCRIPTION = (
    "Alerts group only when these fields are equal as well: `source`, `message`, `labels.<name>`"
    " (e.g. `labels.alertname`, `labels.instance`); a label an alert lacks counts as empty"
)
JOIN_DESCRIPTION = (
    "Whether a new alert may join an incident already acknowledged (its timeline says so and the assignee gets"
    " a notice); false: it opens an incident of its own"
)
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
    correlation_window_minutes: int | None = Field(default=None, ge=0, le=10080, description=WINDOW_DESCRIPTION)
    grouping_fields: list[GroupingField] = Field(default_factory=list, max_length=10, description=FIELDS_DESCRIPTION)
    join_acknowledged: bool = Field(default=True, description=JOIN_DESCRIPTION)


class ServiceUpdate(Input):
    name: Name | None = None
    description: Description | None = None
    team_id: uuid.UUID | None = None
    escalation_policy_id: uuid.UUID | None = None
    high_urgency_severities: HighUrgency | None = None
    acknowledgement_timeout_minutes: int | None = AckTimeout
    # Explicit null goes back to the default window; leaving the field out keeps it.
    correlation_window_minutes: int | None = Field(default=None, ge=0, le=10080, description=WINDOW_DESCRIPTION)
    grouping_fields: list[GroupingField] | None = Field(default=None, max_length=10, description=FIELDS_DESCRIPTION)
    join_acknowledged: bool | None = Field(default=None, description=JOIN_DESCRIPTION)


class ServiceRead(Stamped):
    id: uuid.UUID
    name: str
    description: str
    team_id: uuid.UUID | None
    escalation_policy_id: uuid.UUID | None
    high_urgency_severities: list[Severity]
    acknowledgement_timeout_minutes: int | None
    correlation_window_minutes: int | None = Field(description=WINDOW_DESCRIPTION)
    grouping_fields: list[str] = Field(description=FIELDS_DESCRIPTION)
    join_acknowledged: bool = Field(description=JOIN_DESCRIPTION)
