"""The planner: a realistic mix, repeats of open problems, resolves, bursts, ISO-8601 times."""

import random
from collections import Counter
from datetime import UTC, datetime

import pytest
from pydantic import ValidationError

from alert_generator.__main__ import default_mix, parse_keys
from alert_generator.mix import Mix, Planner

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def _run(mix: Mix, steps: int, seed: int = 7) -> list:
    planner = Planner(mix, random.Random(seed))
    return [event for _ in range(steps) for event in planner.next_events(NOW)]


def test_the_traffic_follows_the_weights_and_mixes_every_kind():
    events = _run(Mix(services={"payments": 3, "search": 1}), 4000)
    triggers = [e for e in events if e.action == "trigger"]
    by_service = Counter(e.service for e in triggers)
    assert 2.2 < by_service["payments"] / by_service["search"] < 3.8
    assert set(Counter(e.severity for e in triggers)) == {"critical", "error", "warning", "info"}
    keys = Counter(e.dedup_key for e in triggers)
    assert any(n > 1 for n in keys.values()), "repeats re-trigger a problem"
    assert any(e.action == "resolve" for e in events)


def test_resolves_and_repeats_only_name_problems_still_open():
    planner = Planner(Mix(services={"api": 1}), random.Random(3))
    open_keys: set[str] = set()
    for _ in range(3000):
        for event in planner.next_events(NOW):
            if event.action == "resolve":
                assert event.dedup_key in open_keys
                open_keys.remove(event.dedup_key)
            else:
                open_keys.add(event.dedup_key)
    assert open_keys == set(planner.open)


def test_a_burst_is_several_problems_of_one_service_and_severity():
    mix = Mix(services={"db": 1, "web": 1}, burst_probability=1, repeat_probability=0, resolve_probability=0)
    burst = Planner(mix, random.Random(1)).next_events(NOW)
    assert len(burst) == mix.burst_size
    assert len({(e.service, e.severity) for e in burst}) == 1
    assert len({e.dedup_key for e in burst}) == mix.burst_size


def test_open_problems_are_capped():
    mix = Mix(services={"db": 1}, resolve_probability=0, repeat_probability=0, burst_probability=0, max_open=5)
    planner = Planner(mix, random.Random(1))
    for _ in range(50):
        planner.next_events(NOW)
    assert len(planner.open) <= 5


def test_timestamps_are_iso_8601_with_an_offset_and_bodies_are_pagerduty_events():
    trigger = _run(Mix(services={"db": 1}), 1)[0]
    assert datetime.fromisoformat(trigger.timestamp) == NOW
    assert trigger.timestamp.endswith("+00:00")
    body = trigger.body("KEY")
    assert body["routing_key"] == "KEY" and body["event_action"] == "trigger"
    assert body["payload"]["severity"] in {"critical", "error", "warning", "info"}
    assert body["payload"]["timestamp"] == trigger.timestamp


@pytest.mark.parametrize(
    "bad",
    [
        {"services": {}},
        {"services": {"a": 0}},
        {"services": {"a": 1}, "severities": {"urgent": 1}},
        {"services": {"a": 1}, "repeat_probability": 0.6, "resolve_probability": 0.6},
        {"services": {"a": 1}, "burst_size": 1},
        {"services": {"a": 1}, "colour": "red"},
    ],
)
def test_a_bad_mix_is_refused(bad):
    with pytest.raises(ValidationError):
        Mix(**bad)


def test_keys_and_the_default_mix():
    assert parse_keys(["payments=k1", " search = k2 "]) == {"payments": "k1", "search": "k2"}
    with pytest.raises(ValueError, match="SERVICE=KEY"):
        parse_keys(["payments"])
    mix = default_mix(["payments", "search", "auth"])
    assert mix.services["payments"] > mix.services["search"] > mix.services["auth"]
