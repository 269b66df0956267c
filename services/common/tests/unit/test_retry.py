"""The one retry policy: exponential from base, capped, with half of each step random."""

from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from platform_common.retry import backoff_seconds, retry_at

NOW = datetime(2026, 3, 29, 1, 30, tzinfo=UTC)


def test_waits_double_from_the_base_up_to_the_cap():
    longest = [backoff_seconds(n, base=5, cap=60, rand=lambda: 0.999999) for n in range(7)]
    assert [round(w) for w in longest] == [0, 5, 10, 20, 40, 60, 60]
    assert backoff_seconds(3, base=5, cap=600, rand=lambda: 0.0) == 10  # at least half the step
    assert backoff_seconds(10_000, base=5, cap=300, rand=lambda: 0.0) == 150


def test_no_failure_no_wait():
    assert backoff_seconds(0, base=5, cap=60) == 0
    assert retry_at(NOW, 0, base=5, cap=60) == NOW


def test_retry_at_adds_the_wait():
    assert retry_at(NOW, 2, base=5, cap=300, rand=lambda: 0.5) == NOW + timedelta(seconds=7.5)


def doubled_until_capped(failures: int, base: float, cap: float) -> float:
    """The step after `failures` failures, worked out the slow way: start at the base,
    double once per further failure, stop at the cap."""
    step = base
    for _ in range(failures - 1):
        if step >= cap:
            break
        step *= 2
    return min(step, cap)


@given(
    failures=st.integers(min_value=1, max_value=200),
    base=st.floats(min_value=0.01, max_value=60),
    cap=st.floats(min_value=60, max_value=3600),
    rand=st.floats(min_value=0, max_value=1, exclude_max=True),
)
def test_wait_stays_within_half_and_all_of_the_capped_step(failures, base, cap, rand):
    step = doubled_until_capped(failures, base, cap)
    wait = backoff_seconds(failures, base=base, cap=cap, rand=lambda: rand)
    assert step / 2 <= wait <= step
    assert backoff_seconds(failures, base=base, cap=cap, rand=lambda: 0.0) == step / 2  # the fixed half
