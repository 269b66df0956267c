"""Parsing the time-related settings users give: IANA zones and local handoff times."""

import re
from datetime import time
from functools import lru_cache
from zoneinfo import ZoneInfo, available_timezones

_HANDOFF = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$")


class InvalidTimeSetting(ValueError):
    """A timezone or a handoff time that cannot be used."""


@lru_cache(maxsize=1)
def _known_zones() -> frozenset[str]:
    # ZoneInfo() alone accepts file-system oddities ("posixrules", "Factory");
    # only names from the IANA database are meaningful for a schedule.
    return frozenset(available_timezones())


def zone(name: str) -> ZoneInfo:
    """The IANA timezone `name`, or InvalidTimeSetting."""
    if name not in _known_zones() or name in ("Factory", "posixrules", "localtime"):
        raise InvalidTimeSetting(f"unknown timezone {name!r}: use an IANA name such as 'Europe/Berlin'")
    return ZoneInfo(name)


def parse_handoff(value: str) -> time:
    """A local handoff time written "HH:MM" (24-hour clock), or InvalidTimeSetting."""
    match = _HANDOFF.match(value)
    if not match:
        raise InvalidTimeSetting(f"invalid handoff time {value!r}: use HH:MM on a 24-hour clock, e.g. '09:00'")
    return time(int(match.group(1)), int(match.group(2)))
