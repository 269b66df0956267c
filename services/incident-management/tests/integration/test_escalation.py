"""Escalation along the policy in manual (accelerated) time, stopped by acknowledgement,
and driven safely by several replicas at once."""

import asyncio
from datetime import timedelta

from prometheus_client import REGISTRY

from incident_management.main import create_app
from platform_testing import running_app

from ..conftest import START, make_settings, uid


def escalations_total() -> float:
    return REGISTRY.get_sample_value("escalations_total") or 0.0


async def test_an_unacknowledged_incident_escalates_through_two_levels_then_stops(harness):
    harness.oncall.configure("payments", levels=[(5, ["alice"]), (10, ["bob", "bea"]), (15, ["carol"])])
    before = escalations_total()
    incident = await harness.create()
    await harness.tick()
    assert harness.notifier.recipients() == ["alice"]

    await harness.tick(minutes=4, seconds=59)
    assert harness.notifier.recipients() == ["alice"], "level 0's 5 minutes are not over"

    await harness.tick(seconds=1)  # 5 minutes: level 2 (bob, bea) is paged in the same cycle
    assert sorted(harness.notifier.recipients("escalated")) == ["bea", "bob"]
    detail = await harness.detail(incident["id"])
    assert detail["escalation_level"] == 1
    assert detail["assigned_to"] == uid("bob")
    escalated = [e for e in detail["timeline"] if e["event_type"] == "escalated"]
    assert "level 2" in escalated[0]["message"]

    await harness.tick(minutes=9)
    assert len(harness.notifier.recipients("escalated")) == 2
    await harness.tick(minutes=1)  # level 1's 10 minutes: level 3
    assert harness.notifier.recipients("escalated")[2:] == ["carol"]
    detail = await harness.detail(incident["id"])
    assert detail["escalation_level"] == 2
    assert escalations_total() - before == 2

    await harness.tick(minutes=15)  # the last level's delay runs out: the policy is exhausted
    detail = await harness.detail(incident["id"])
    assert detail["next_escalation_at"] is None
    assert detail["timeline"][-1]["event_type"] == "escalation_exhausted"
    await harness.tick(hours=2)
    assert len(harness.notifier.requests) == 4
    keys = harness.notifier.keys()
    assert len(set(keys)) == len(keys), "every (step, user) paged once"


async def test_acknowledging_stops_escalation(harness):
    harness.oncall.configure("payments", levels=[(5, ["alice"]), (5, ["bob"])])
    incident = await harness.create()
    await harness.tick()
    await harness.tick(minutes=3)
    acked = await harness.patch(incident["id"], status="acknowledged", actor="alice")
    assert acked.json()["next_escalation_at"] is None
    await harness.tick(minutes=10)
    await harness.tick(hours=1)
    assert harness.notifier.recipients("triggered") == ["alice"]
    assert harness.notifier.recipients("escalated") == []
    # The paged alice is told of the acknowledgement (the harness's acting "alice" is another user).
    assert harness.notifier.recipients("acknowledged") == ["alice"]
    assert "escalated" not in await harness.events(incident["id"])


async def test_the_policy_repeats_repeat_count_times_then_is_exhausted(harness):
    harness.oncall.configure("payments", levels=[(1, ["alice"]), (1, ["bob"])], repeat_count=1)
    incident = await harness.create()
    await harness.tick()
    for _ in range(5):
        await harness.tick(minutes=1)
    assert harness.notifier.recipients() == ["alice", "bob", "alice", "bob"]
    events = await harness.events(incident["id"])
    assert events.count("escalated") == 3
    assert events[-1] == "escalation_exhausted"
    detail = await harness.detail(incident["id"])
    assert detail["escalation_cycle"] == 1
    assert detail["next_escalation_at"] is None


async def test_with_oncall_down_at_an_escalation_step_it_escalates_once_it_is_back(harness):
    harness.oncall.configure("payments", levels=[(5, ["alice"]), (5, ["bob"]), (5, ["carol"])])
    incident = await harness.create()
    await harness.tick()
    harness.oncall.server.stop()
    await harness.tick(minutes=5)
    await harness.tick(minutes=1)
    events = await harness.events(incident["id"])
    assert events.count("escalation_failed") == 1
    assert harness.notifier.recipients("escalated") == []
    harness.oncall.server.start()
    await harness.tick(minutes=10)
    assert harness.notifier.recipients("escalated") == ["bob"], "one step, not one per missed minute"


async def test_a_level_with_nobody_on_call_is_skipped(harness):
    harness.oncall.configure("payments", levels=[(5, ["alice"]), (5, []), (5, ["carol"])])
    incident = await harness.create()
    await harness.tick()
    await harness.tick(minutes=5)
    assert harness.notifier.recipients("escalated") == ["carol"]
    escalated = [e for e in (await harness.detail(incident["id"]))["timeline"] if e["event_type"] == "escalated"]
    assert escalated[0]["data"]["skipped_levels"] == [1]


async def test_two_replicas_driving_escalations_page_each_step_once(harness):
    """Two apps on one database, each running its loop at the same moment:
    SKIP LOCKED and the claim lease split the work, nobody is paged twice."""
    harness.oncall.configure("payments", levels=[(5, ["alice"]), (5, ["bob"])])
    ids = [(await harness.create(title=f"incident {n}"))["id"] for n in range(12)]
    clock = harness.clock
    second = create_app(
        make_settings(harness.database_url, harness.oncall.server.url, harness.notifier.server.url), clock=clock
    )
    async with running_app(second):
        other = second.state.engine
        await asyncio.gather(harness.engine.run_once(), other.run_once())
        clock.advance(timedelta(minutes=5))
        reports = await asyncio.gather(harness.engine.run_once(), other.run_once())
        await asyncio.gather(harness.engine.run_once(), other.run_once())
    assert sum(r.escalated for r in reports) == 12
    keys = harness.notifier.keys()
    assert len(keys) == len(set(keys)) == 24
    assert sorted(harness.notifier.recipients()) == ["alice"] * 12 + ["bob"] * 12
    for incident_id in ids:
        assert (await harness.events(incident_id)).count("escalated") == 1
    assert clock.now() > START
