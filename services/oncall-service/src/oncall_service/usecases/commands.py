"""What the use cases take: plain values, so services/ never depends on the HTTP
schemas (api/ validates a request, then converts it into one of these)."""

import enum
import uuid
from dataclasses import dataclass, field
from datetime import date, datetime


class Keep(enum.Enum):
    """A field an update leaves as it is, where None would mean "set to null"."""

    KEEP = "keep"


KEEP = Keep.KEEP


@dataclass(frozen=True)
class NewContactMethod:
    """A way to reach a user: channel type and address."""

    type: str
    address: str


@dataclass(frozen=True)
class NewUser:
    """A user to create."""

    name: str
    email: str
    timezone: str = "UTC"
    contact_methods: list[NewContactMethod] = field(default_factory=list)
    muted_channels: list[str] = field(default_factory=list)
    muted_severities: list[str] = field(default_factory=list)
    role: str = "responder"
    password: str | None = None


@dataclass(frozen=True)
class UserChanges:
    """None leaves a field as it is; a list given replaces the whole list."""

    name: str | None = None
    email: str | None = None
    timezone: str | None = None
    contact_methods: list[NewContactMethod] | None = None
    muted_channels: list[str] | None = None
    muted_severities: list[str] | None = None
    role: str | None = None
    disabled: bool | None = None


@dataclass(frozen=True)
class NewMember:
    """A team member and their role."""

    user_id: uuid.UUID
    role: str = "member"


@dataclass(frozen=True)
class NewTeam:
    """A team to create."""

    name: str
    description: str = ""
    escalation_policy_id: uuid.UUID | None = None
    members: list[NewMember] = field(default_factory=list)


@dataclass(frozen=True)
class TeamChanges:
    """None leaves a field as it is; escalation_policy_id=None detaches the policy."""

    name: str | None = None
    description: str | None = None
    escalation_policy_id: uuid.UUID | Keep | None = KEEP
    members: list[NewMember] | None = None


@dataclass(frozen=True)
class NewService:
    """A service to create."""

    name: str
    description: str = ""
    team_id: uuid.UUID | None = None
    escalation_policy_id: uuid.UUID | None = None


@dataclass(frozen=True)
class ServiceChanges:
    """None leaves a field as it is; team_id or escalation_policy_id=None detaches it."""

    name: str | None = None
    description: str | None = None
    team_id: uuid.UUID | Keep | None = KEEP
    escalation_policy_id: uuid.UUID | Keep | None = KEEP


@dataclass(frozen=True)
class NewTarget:
    """A user or schedule an escalation level pages."""

    type: str
    id: uuid.UUID


@dataclass(frozen=True)
class NewLevel:
    """An escalation level: whom it pages, after how many minutes."""

    delay_minutes: int
    targets: list[NewTarget]


@dataclass(frozen=True)
class NewPolicy:
    """An escalation policy to create."""

    name: str
    levels: list[NewLevel]
    description: str = ""
    team_id: uuid.UUID | None = None
    repeat_count: int = 0


@dataclass(frozen=True)
class PolicyChanges:
    """None leaves a field as it is; team_id=None detaches the team; levels given replace all."""

    name: str | None = None
    description: str | None = None
    team_id: uuid.UUID | Keep | None = KEEP
    repeat_count: int | None = None
    levels: list[NewLevel] | None = None


@dataclass(frozen=True)
class NewLayer:
    """A rotation layer; without a priority it goes above the layers before it."""

    rotation_type: str
    start_date: date
    members: list[uuid.UUID]
    name: str | None = None
    priority: int | None = None
    shift_length: int = 1
    handoff_time: str = "09:00"
    end_at: datetime | None = None


@dataclass(frozen=True)
class NewSchedule:
    """A schedule to create."""

    name: str
    timezone: str
    description: str = ""
    team_id: uuid.UUID | None = None
    layers: list[NewLayer] = field(default_factory=list)


@dataclass(frozen=True)
class ScheduleChanges:
    """None leaves a field as it is; team_id=None detaches the team; layers given replace all."""

    name: str | None = None
    description: str | None = None
    team_id: uuid.UUID | Keep | None = KEEP
    timezone: str | None = None
    layers: list[NewLayer] | None = None


@dataclass(frozen=True)
class NewOverride:
    """Someone covering a schedule over [start, end)."""

    user_id: uuid.UUID
    start: datetime
    end: datetime
