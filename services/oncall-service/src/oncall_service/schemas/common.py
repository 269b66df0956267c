"""Shapes shared by every resource: pages, user references, strict inputs."""

import re
import uuid
from datetime import UTC, date, datetime
from typing import Annotated, Generic, TypeVar

from pydantic import AfterValidator, AwareDatetime, BaseModel, BeforeValidator, ConfigDict

from oncall_service.domain.timezones import parse_handoff, zone
from platform_common.validation import Text

Name = Text(200, min_length=1, strip=True)
Description = Text(10_000)


def _known_zone(value: str) -> str:
    zone(value)
    return value


def _handoff(value: str) -> str:
    return parse_handoff(value).strftime("%H:%M")


TimezoneName = Annotated[str, AfterValidator(_known_zone)]
_PLUS_AS_SPACE = re.compile(r"^(.*\d) (\d{2}:?\d{2})$")


def _plus_restored(value: object) -> object:
    # An unencoded "+01:00" in a hand-typed query string arrives as " 01:00".
    if isinstance(value, str):
        return _PLUS_AS_SPACE.sub(r"\1+\2", value)
    return value


# Times outside this window are typos, and near the ends of the calendar the
# rotation arithmetic would run past datetime's range.
EARLIEST = datetime(1970, 1, 1, tzinfo=UTC)
LATEST = datetime(2200, 1, 1, tzinfo=UTC)


def _utc_in_range(value: datetime) -> datetime:
    try:
        value = value.astimezone(UTC)
    except OverflowError:
        raise ValueError("time out of range: use a time between 1970 and 2199") from None
    if not EARLIEST <= value < LATEST:
        raise ValueError("time out of range: use a time between 1970 and 2199")
    return value


def _date_in_range(value: date) -> date:
    if not EARLIEST.year <= value.year < LATEST.year:
        raise ValueError("date out of range: use a date between 1970 and 2199")
    return value


# Any offset in, UTC out: naive times are refused, since "09:00" alone names no instant.
UtcDatetime = Annotated[AwareDatetime, BeforeValidator(_plus_restored), AfterValidator(_utc_in_range)]
CalendarDate = Annotated[date, AfterValidator(_date_in_range)]
HandoffTime = Annotated[str, AfterValidator(_handoff)]


class Input(BaseModel):
    """Inputs refuse unknown fields, so a typo is a 422 rather than silently ignored."""

    model_config = ConfigDict(extra="forbid")


class Output(BaseModel):
    model_config = ConfigDict(from_attributes=True)


class UserRef(Output):
    id: uuid.UUID
    name: str
    email: str


T = TypeVar("T")


class Page(BaseModel, Generic[T]):
    items: list[T]
    total: int
    limit: int
    offset: int


class Stamped(Output):
    created_at: datetime
    updated_at: datetime
