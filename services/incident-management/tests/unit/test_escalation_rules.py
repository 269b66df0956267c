"""Walking a policy, retry timing and duration summaries: pure functions."""

from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from incident_management.domain.escalation import Step, escalation_deadline, next_step, page_key

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

