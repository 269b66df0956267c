"""The clocks services read "now" from."""

from datetime import UTC, datetime, timedelta

from platform_common.clock import AcceleratedClock, ManualClock, SystemClock, service_clock

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def test_the_accelerated_clock_runs_faster_from_the_real_start():
    real = ManualClock(NOW)
    fast = AcceleratedClock(60, base=real)
    real.advance(timedelta(seconds=2))
    assert fast.now() == NOW + timedelta(minutes=2)


def test_a_service_runs_on_the_wall_clock_unless_sped_up():
    assert isinstance(service_clock(1.0), SystemClock)
    assert isinstance(service_clock(60), AcceleratedClock)
