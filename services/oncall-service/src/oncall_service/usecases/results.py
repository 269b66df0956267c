"""What the read use cases return: plain values, which api/ turns into response
bodies (the schemas of the same names, read from these attributes)."""

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any


@dataclass(frozen=True)
class UserRef:
    """A user as referenced from other resources."""

    id: uuid.UUID
    name: str
    email: str


@dataclass(frozen=True)
class PagedUser(UserRef):
    """Someone a page goes to, with where and what they take pages on: the caller
    hands these to notification-service, which then needs nobody else to page."""

    contact_methods: list[Any]  # platform_db ContactMethod rows
    muted_channels: list[str]
    muted_severities: list[str]


@dataclass(frozen=True)
class NamedRef:
    """A service or team, by id and name."""

    id: uuid.UUID
    name: str


@dataclass(frozen=True)
class PolicyRef:
    """The escalation policy that applies, and how often it repeats."""

    id: uuid.UUID
    name: str
    repeat_count: int


@dataclass(frozen=True)
class TargetRef:
    """A user or schedule an escalation level pages, with its name."""

    type: str
    id: uuid.UUID
    name: str


@dataclass(frozen=True)
class ChainLevel:
    """One escalation level: its targets, and the people they resolve to at that moment."""

    level: int
    delay_minutes: int
    targets: list[TargetRef]
    users: list[PagedUser]


@dataclass(frozen=True)
class OnCall:
    """Who a service's (or team's) incident pages at `at`: the primary and every level."""

    at: datetime
    service: NamedRef | None
    team: NamedRef | None
    escalation_policy: PolicyRef | None
    primary: PagedUser | None
    escalation_chain: list[ChainLevel]


@dataclass(frozen=True)
class ShiftSource:
    """The layer or override a shift comes from."""

    type: str
    id: uuid.UUID
    name: str | None = None


@dataclass(frozen=True)
class Shift:
    """Someone on call over [start, end), and the layer or override that puts them there."""

    user: UserRef
    start: datetime
    end: datetime
    source: ShiftSource


@dataclass(frozen=True)
class LayerShifts:
    """One rotation layer's own shifts, before priorities and overrides."""

    id: uuid.UUID
    name: str
    priority: int
    shifts: list[Shift]


@dataclass(frozen=True)
class Shifts:
    """A schedule's final shifts over [start, end), and each layer's own before priorities and overrides."""

    schedule_id: uuid.UUID
    timezone: str
    start: datetime
    end: datetime
    shifts: list[Shift]
    layers: list[LayerShifts]


@dataclass(frozen=True)
class ScheduleRef:
    """A schedule by id and name, with its time zone and team."""

    id: uuid.UUID
    name: str
    timezone: str
    team_id: uuid.UUID | None


@dataclass(frozen=True)
class OnCallNow:
    """A schedule with who is on call in it, and until when (None: past the look-ahead)."""

    schedule: ScheduleRef
    user: UserRef | None
    until: datetime | None


@dataclass(frozen=True)
class OnCallPage:
    """One page of OnCallNow, by schedule name."""

    at: datetime
    items: list[OnCallNow]
    total: int
    limit: int
    offset: int
