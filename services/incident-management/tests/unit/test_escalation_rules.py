"""Walking a policy, retry timing and duration summaries: pure functions."""

from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from incident_management.domain.escalation import (
    ChainLevel,
    OnCall,
    Person,
    Step,
    acknowledgement_deadline,
    escalation_deadline,
    first_pages,
    next_staffed_step,
    next_step,
    page_key,
    renotify_step,
)
from incident_management.domain.reasons import Reason, Why, level_name, page_text, timeline_text

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def walk(level_count: int, repeat_count: int) -> list[Step]:
    steps, step = [Step(0, 0)], Step(0, 0)
    while (step := next_step(step, level_count=level_count, repeat_count=repeat_count)) is not None:
        steps.append(step)
    return steps


def test_a_policy_is_walked_level_by_level_then_repeated():
    assert walk(3, 0) == [Step(0, 0), Step(1, 0), Step(2, 0)]
    assert walk(2, 2) == [Step(0, 0), Step(1, 0), Step(0, 1), Step(1, 1), Step(0, 2), Step(1, 2)]
    assert walk(1, 0) == [Step(0, 0)]
    assert next_step(Step(0, 0), level_count=0, repeat_count=3) is None


def test_a_policy_that_lost_levels_continues_from_its_end():
    assert next_step(Step(4, 0), level_count=2, repeat_count=1) == Step(0, 1)
    assert next_step(Step(4, 1), level_count=2, repeat_count=1) is None


@given(levels=st.integers(min_value=1, max_value=10), repeats=st.integers(min_value=0, max_value=5))
def test_every_step_is_visited_once(levels, repeats):
    steps = walk(levels, repeats)
    assert len(steps) == levels * (repeats + 1)
    assert len({s.key for s in steps}) == len(steps)


ALICE, BOB = Person("u-alice", "Alice"), Person("u-bob", "Bob")


def chain(*levels: tuple[Person, ...], repeat_count: int = 0, primary: Person | None = None) -> OnCall:
    return OnCall(
        primary=primary,
        policy_id="not-a-uuid",
        repeat_count=repeat_count,
        levels=tuple(ChainLevel(n, 5, users) for n, users in enumerate(levels)),
    )


def test_levels_with_nobody_are_passed_over_and_named():
    assert next_staffed_step(Step(0, 0), chain((ALICE,), (), (BOB,))) == (Step(2, 0), [1])
    assert next_staffed_step(Step(0, 0), chain((ALICE,), (), ())) == (None, [1, 2])
    assert next_staffed_step(Step(1, 0), chain((ALICE,), (), repeat_count=1)) == (Step(0, 1), [])
    assert next_staffed_step(Step(0, 0), chain((), (), repeat_count=2)) == (None, [1, 0, 1, 0, 1])


def test_a_new_incident_pages_the_first_level_or_without_a_policy_its_assignee():
    first = first_pages(chain((ALICE, BOB), (BOB,)), NOW)
    assert (first.step_key, first.recipients, first.escalate_at) == (
        "level-0-cycle-0",
        (ALICE, BOB),
        NOW + timedelta(minutes=5),
    )
    # Nobody at level 1: level 2 is paged at once (not after level 1's delay), and
    # level 1 is named as passed over; its own delay then starts.
    nobody_first = first_pages(chain((), (BOB,)), NOW)
    assert (nobody_first.step, nobody_first.recipients, nobody_first.skipped) == (Step(1, 0), (BOB,), (0,))
    assert (nobody_first.step_key, nobody_first.escalate_at) == ("level-1-cycle-0", NOW + timedelta(minutes=5))
    nobody_at_all = first_pages(chain((), ()), NOW)
    assert (nobody_at_all.step, nobody_at_all.recipients, nobody_at_all.escalate_at) == (None, (), None)
    assert nobody_at_all.skipped == (0, 1)
    no_policy = first_pages(OnCall(primary=ALICE), NOW)
    assert (no_policy.step_key, no_policy.recipients, no_policy.escalate_at) == ("primary", (ALICE,), None)
    assert first_pages(OnCall(primary=None), NOW).recipients == ()


def test_the_assignee_is_the_primary_else_the_first_of_the_first_level():
    assert chain((BOB,), primary=ALICE).assignee == ALICE
    assert chain((BOB, ALICE)).assignee == BOB
    assert chain((), (ALICE,)).assignee == ALICE, "the first level with anybody on call"
    assert chain((), ()).assignee is None
    assert chain((ALICE,)).policy_uuid is None
    assert OnCall(None, policy_id="7f1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d").policy_uuid is not None


def test_a_stale_acknowledgement_pages_its_level_again_or_the_next_with_somebody():
    assert renotify_step(Step(1, 0), chain((ALICE,), (BOB,))) == (Step(1, 0), [])
    assert renotify_step(Step(0, 0), chain((), (BOB,))) == (Step(1, 0), [0])
    assert renotify_step(Step(0, 0), chain((), ())) == (None, [0, 1])
    assert acknowledgement_deadline(30, NOW) == NOW + timedelta(minutes=30)
    assert acknowledgement_deadline(None, NOW) is None


def named(*levels: tuple[tuple[Person, ...], tuple[str, ...]], repeat_count: int = 0) -> OnCall:
    return OnCall(
        primary=None,
        policy_id="p",
        policy_name="Payments",
        repeat_count=repeat_count,
        levels=tuple(ChainLevel(n, 5, users, names) for n, (users, names) in enumerate(levels)),
    )


def test_every_page_says_its_real_reason_and_names_the_levels():
    oncall = named(((), ("Payments primary",)), ((BOB,), ("Payments secondary", "Carol")), repeat_count=1)
    assert level_name(oncall, 0) == "level 1 (Payments primary)"
    assert level_name(named(((ALICE,), ())), 0) == "level 1 (Payments)"

    first = Reason(Why.FIRST, Step(1, 0), (0,))
    assert page_text(oncall, first, "payments") == (
        "First page: you are on call for payments at level 2 (Payments secondary, Carol)"
        " because level 1 (Payments primary) had nobody on call."
    )
    assert timeline_text(oncall, first, "Bob") == (
        "Paging level 2 (Payments secondary, Carol): Bob (first page; level 1 (Payments primary) had nobody on call)"
    )
    timeout = Reason(Why.TIMEOUT, Step(1, 1), (0,), previous=Step(1, 0), minutes=5)
    assert page_text(oncall, timeout, "payments") == (
        "Escalated to you at level 2 (Payments secondary, Carol), repeat 1 of 1: nobody acknowledged within 5 min"
        " of paging level 2 (Payments secondary, Carol). Level 1 (Payments primary) had nobody on call."
    )
    renotify = Reason(Why.RENOTIFY, Step(1, 0), minutes=30)
    assert page_text(oncall, renotify, "payments") == (
        "Re-notify: this incident was acknowledged but untouched for 30 min; it is triggered again and you are"
        " paged at level 2 (Payments secondary, Carol)."
    )
    manual = Reason(Why.MANUAL, Step(1, 0), by="Alice Example")
    assert page_text(oncall, manual, "payments") == (
        "Manual escalation by Alice Example: escalated to you at level 2 (Payments secondary, Carol)."
    )
    assert timeline_text(oncall, manual, "Bob") == (
        "Escalated to level 2 (Payments secondary, Carol): Bob (manual escalation by Alice Example)"
    )
    # No page text claims a timeout that did not happen.
    for reason in (first, renotify, manual):
        assert "nobody acknowledged" not in page_text(oncall, reason, "payments")


def test_deadlines_and_keys():
    assert escalation_deadline(NOW, delay_minutes=5) == NOW + timedelta(minutes=5)
    assert escalation_deadline(NOW, delay_minutes=-3) == NOW
    assert page_key("i-1", Step(1, 2).key, "u-9") == "incident:i-1:level-1-cycle-2:u-9"


def test_the_domain_has_no_framework_or_database_imports():
    import ast
    from pathlib import Path

    import incident_management.domain as domain

    for path in Path(domain.__file__).parent.glob("*.py"):
        tree = ast.parse(path.read_text())
        modules = {a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
        modules |= {n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) and n.module}
        roots = {m.split(".")[0] for m in modules}
        assert not roots & {"fastapi", "sqlalchemy", "httpx", "platform_common"}, path.name
        assert "datetime.now" not in path.read_text(), path.name
