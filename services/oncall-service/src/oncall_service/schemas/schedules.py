"""Schedules, their rotation layers, overrides and computed shifts."""

import uuid
from datetime import date, datetime
from typing import Any, Literal, Self

from pydantic import Field, field_validator, model_validator

from oncall_service.schemas.common import (
    CalendarDate,
    Description,
    HandoffTime,
    Input,
    Name,
    Output,
    Stamped,
    TimezoneName,
    UserRef,
    UtcDatetime,
)
from platform_db.enums import RotationType


class LayerIn(Input):
    name: Name | None = None
    # Higher wins where layers overlap; by default a layer listed later sits higher.
    priority: int | None = Field(default=None, ge=0, le=1000)
    rotation_type: RotationType
    shift_length: int = Field(default=1, ge=1, le=1000)
    handoff_time: HandoffTime = "09:00"
    # The first shift starts on this local date at handoff_time; weekly
    # rotations hand off on this date's weekday. Left out: the layer covers from
    # the moment it is saved (the date of the last handoff at or before then).
    start_date: CalendarDate | None = Field(
        default=None,
        description=(
            "local date of the first handoff; left out, the layer covers from now: its first shift is the one"
            " running now and lasts until the next handoff"
        ),
    )
    end_at: UtcDatetime | None = None
    members: list[uuid.UUID] = Field(max_length=200)

    @model_validator(mode="after")
    def _has_members(self) -> Self:
        if not self.members:
            raise ValueError("a rotation needs at least one member")
        return self


class LayerRead(Output):
    id: uuid.UUID
    name: str
    priority: int
    rotation_type: str
    shift_length: int
    handoff_time: str
    start_date: date
    end_at: datetime | None
    members: list[UserRef]

    @field_validator("members", mode="before")
    @classmethod
    def _members_users(cls, members: list[Any]) -> list[Any]:
        # A stored layer's members are its turns (LayerMember rows), each holding its user.
        return [getattr(member, "user", member) for member in members]


class ScheduleCreate(Input):
    name: Name
    description: Description = ""
    team_id: uuid.UUID | None = None
    timezone: TimezoneName
    layers: list[LayerIn] = Field(default_factory=list, max_length=20)


class ScheduleUpdate(Input):
    name: Name | None = None
    description: Description | None = None
    team_id: uuid.UUID | None = None
    timezone: TimezoneName | None = None
    # When given, replaces every layer.
    layers: list[LayerIn] | None = Field(default=None, max_length=20)


class ScheduleRead(Stamped):
    id: uuid.UUID
    name: str
    description: str
    team_id: uuid.UUID | None
    timezone: str
    layers: list[LayerRead]

    @field_validator("layers", mode="before")
    @classmethod
    def _highest_first(cls, layers: list[Any]) -> list[Any]:
        # Loaded layers come highest first; those added in this request sit where they were appended.
        return sorted(layers, key=lambda layer: -layer.priority)


class OverrideCreate(Input):
    user_id: uuid.UUID
    start: UtcDatetime
    end: UtcDatetime

    @model_validator(mode="after")
    def _ordered(self) -> Self:
        if self.end <= self.start:
            raise ValueError("end must be after start")
        return self


class OverrideUpdate(Input):
    """Any of who covers and the range; what is left out stays as it is."""

    user_id: uuid.UUID | None = None
    start: UtcDatetime | None = None
    end: UtcDatetime | None = None


class OverrideRead(Output):
    id: uuid.UUID
    schedule_id: uuid.UUID
    user: UserRef
    # The stored row's start_at and end_at.
    start: datetime = Field(validation_alias="start_at")
    end: datetime = Field(validation_alias="end_at")
    created_at: datetime
    created_by: UserRef | None = Field(
        validation_alias="creator",
        description="who made it (null: made before this was recorded, by the platform, or by a user since deleted)",
    )


class ShiftSource(Output):
    type: Literal["layer", "override"]
    id: uuid.UUID
    name: str | None = None


class ShiftRead(Output):
    user: UserRef
    start: datetime
    end: datetime
    source: ShiftSource


class LayerShifts(Output):
    id: uuid.UUID
    name: str
    priority: int
    shifts: list[ShiftRead]


class GapRead(Output):
    start: datetime
    end: datetime


class ShiftsRead(Output):
    schedule_id: uuid.UUID
    timezone: str
    start: datetime = Field(serialization_alias="from")
    end: datetime = Field(serialization_alias="to")
    # The final schedule: what pages people. Time nobody covers is absent.
    shifts: list[ShiftRead]
    # Each layer on its own, before priorities and overrides (what the UI draws per layer).
    layers: list[LayerShifts]
    # Where nobody is on call in the range (domain.schedule.gaps).
    gaps: list[GapRead]


class SchedulePreviewIn(Input):
    """A schedule as the form holds it before saving, and optionally the stored
    schedule it would replace (whose overrides then count)."""

    timezone: TimezoneName
    layers: list[LayerIn] = Field(default_factory=list, max_length=20)
    schedule_id: uuid.UUID | None = None


class PreviewShift(Output):
    user: UserRef
    start: datetime
    end: datetime
    source_type: Literal["layer", "override"]


class SchedulePreview(Output):
    timezone: str
    start: datetime = Field(serialization_alias="from")
    end: datetime = Field(serialization_alias="to")
    shifts: list[PreviewShift]
    gaps: list[GapRead]


class ScheduleRef(Output):
    id: uuid.UUID
    name: str
    timezone: str
    team_id: uuid.UUID | None


class OnCallNow(Output):
    schedule: ScheduleRef
    user: UserRef | None
    # When the current final shift ends; null when it runs past the look-ahead.
    until: datetime | None


class OnCallList(Output):
    at: datetime
    items: list[OnCallNow]
    total: int
    limit: int
    offset: int
