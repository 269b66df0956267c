"""The service's clock: real time, or real time sped up for demos and end-to-end tests."""

from datetime import UTC, datetime

from platform_common.clock import Clock, SystemClock


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
    """The clock the service runs on: the wall clock, or a faster one for demos."""
    return SystemClock() if speed == 1.0 else AcceleratedClock(speed)
