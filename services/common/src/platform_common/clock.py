"""Where "now" comes from, so tests and accelerated runs can choose it."""

from datetime import UTC, datetime, timedelta
from typing import Protocol


class Clock(Protocol):
    """Where code reads the time, so tests can set it."""

    def now(self) -> datetime:
        """The current time, timezone-aware."""


class SystemClock:
    """The wall clock, in UTC."""

    def now(self) -> datetime:
        """The current time in UTC."""
        return datetime.now(UTC)


class ManualClock:
    """A clock that moves only when told: for tests of timers and escalations."""

    def __init__(self, start: datetime | None = None) -> None:
        self._now = start or datetime(2026, 1, 1, tzinfo=UTC)

    def now(self) -> datetime:
        """The time it was set to."""
        return self._now

    def advance(self, delta: timedelta) -> datetime:
        """Move the time forward by `delta`; the new time."""
        self._now += delta
        return self._now

    def set(self, moment: datetime) -> None:
        """Set the time to `moment`."""
        self._now = moment


class AcceleratedClock:
    """Starts at the real time and runs `speed` times faster: 60 makes a minute pass in a second."""

    def __init__(self, speed: float, *, base: Clock | None = None) -> None:
        self.base = base or SystemClock()
        self.speed = speed
        self.started = self.base.now()

    def now(self) -> datetime:
        """The current time, running `speed` times faster than the wall clock."""
        elapsed = self.base.now() - self.started
        return (self.started + elapsed * self.speed).astimezone(UTC)


def service_clock(speed: float) -> Clock:
    """The clock a service runs on: the wall clock, or a faster one for demos and end-to-end tests."""
    return SystemClock() if speed == 1.0 else AcceleratedClock(speed)
