"""The state machine as a pure function: every move, and invariants over any sequence."""

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from incident_management.domain.state import ALLOWED, InvalidTransition, Lifecycle, Status, is_paging, transition

T0 = datetime(2026, 3, 29, 0, 30, tzinfo=UTC)  # the night Europe changes clocks: UTC does not care

LEGAL = {
    ("open", "acknowledged"),
    ("open", "resolved"),
    ("acknowledged", "in_progress"),
    ("acknowledged", "resolved"),
    ("in_progress", "resolved"),
}


@pytest.mark.parametrize("current", list(Status))
@pytest.mark.parametrize("target", list(Status))
def test_exactly_the_contracts_moves_are_legal(current, target):
    state = Lifecycle(status=current, created_at=T0)
    if (current.value, target.value) in LEGAL:
        assert transition(state, target, T0 + timedelta(minutes=1)).status is target
    else:
        with pytest.raises(InvalidTransition) as raised:
            transition(state, target, T0 + timedelta(minutes=1))
        assert raised.value.current is current
        assert current.value in str(raised.value)


def test_mtta_is_set_on_leaving_open_and_mttr_on_resolving():
    acked = transition(Lifecycle(Status.OPEN, T0), Status.ACKNOWLEDGED, T0 + timedelta(minutes=3))
    assert acked.mtta_seconds == 180
    assert acked.acknowledged_at == T0 + timedelta(minutes=3)
    assert acked.mttr_seconds is None
    working = transition(acked, Status.IN_PROGRESS, T0 + timedelta(minutes=7))
    assert working.mtta_seconds == 180
    resolved = transition(working, Status.RESOLVED, T0 + timedelta(hours=2))
    assert (resolved.mtta_seconds, resolved.mttr_seconds) == (180, 7200)


def test_open_to_resolved_sets_mtta_equal_to_mttr():
    resolved = transition(Lifecycle(Status.OPEN, T0), Status.RESOLVED, T0 + timedelta(seconds=42))
    assert resolved.mtta_seconds == resolved.mttr_seconds == 42
    assert resolved.acknowledged_at == resolved.resolved_at


def test_a_clock_slightly_behind_the_row_never_gives_negative_durations():
    resolved = transition(Lifecycle(Status.OPEN, T0), Status.RESOLVED, T0 - timedelta(seconds=2))
    assert resolved.mtta_seconds == resolved.mttr_seconds == 0


def test_only_open_incidents_page():
    assert [s for s in Status if is_paging(s)] == [Status.OPEN]


@given(
    moves=st.lists(st.tuples(st.sampled_from(list(Status)), st.integers(min_value=0, max_value=86_400)), max_size=12)
)
def test_any_sequence_of_attempts_keeps_the_record_consistent(moves):
    state = Lifecycle(Status.OPEN, T0)
    now = T0
    for target, wait in moves:
        now += timedelta(seconds=wait)
        before = state
        try:
            state = transition(state, target, now)
        except InvalidTransition:
            assert target not in ALLOWED[before.status]
            continue
        # Once set, MTTA never changes; MTTR exists exactly when resolved; MTTA <= MTTR.
        if before.mtta_seconds is not None:
            assert state.mtta_seconds == before.mtta_seconds
        assert (state.status is Status.RESOLVED) == (state.mttr_seconds is not None)
        assert state.mtta_seconds is not None
        if state.mttr_seconds is not None:
            assert state.mtta_seconds <= state.mttr_seconds
