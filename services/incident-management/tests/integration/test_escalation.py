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


async def test_a_first_level_with_nobody_is_skipped_at_once_and_the_page_says_why(harness):
    harness.oncall.configure("payments", levels=[(5, []), (10, ["bob"])])
    incident = await harness.create()
    await harness.tick()  # no wait for level 1's 5 minutes: bob is paged in the first cycle
    assert harness.notifier.recipients() == ["bob"]
    [page] = harness.notifier.requests
    assert page["event"] == "triggered"
    assert page["message"] == (
        "First page: you are on call for payments at level 2 (Bob)"
        " because level 1 (payments policy) had nobody on call."
    )
    assert "nobody acknowledged" not in page["message"]
    detail = await harness.detail(incident["id"])
    assert (detail["escalation_level"], detail["assigned_to"]) == (1, uid("bob"))
    assert detail["next_escalation_at"] == (START + timedelta(minutes=10)).isoformat().replace("+00:00", "Z")
    [skipped] = [e for e in detail["timeline"] if e["event_type"] == "skipped"]
    assert "level 1 (payments policy) had nobody on call" in skipped["message"]
    paged = [e["message"] for e in detail["timeline"] if e["event_type"] == "paged"]
    assert paged == ["Paged Bob via email, slack"], "names, not ids"


async def test_an_escalation_page_says_how_long_nobody_acknowledged(harness):
    harness.oncall.configure("payments", levels=[(5, ["alice"]), (5, []), (5, ["carol"])])
    incident = await harness.create()
    await harness.tick()
    await harness.tick(minutes=5)
    [page] = [r for r in harness.notifier.requests if r["event"] == "escalated"]
    assert page["message"] == (
        "Escalated to you at level 3 (Carol): nobody acknowledged within 5 min of paging level 1 (Alice)."
        " Level 2 (payments policy) had nobody on call."
    )
    escalated = [e for e in (await harness.detail(incident["id"]))["timeline"] if e["event_type"] == "escalated"]
    assert escalated[0]["message"] == (
        "Escalated to level 3 (Carol): Carol (nobody acknowledged within 5 min of paging level 1 (Alice);"
        " level 2 (payments policy) had nobody on call)"
    )


async def test_escalate_now_pages_the_next_level_at_once_and_says_who_asked(harness):
    harness.oncall.configure("payments", levels=[(30, ["alice"]), (30, ["bob"])])
    incident = await harness.create()
    await harness.tick()
    await harness.tick(minutes=1)
    asked = await harness.client.post(f"/api/v1/incidents/{incident['id']}/escalate", headers=harness.as_user("Dana"))
    assert asked.status_code == 202, asked.text
    await harness.tick()
    assert harness.notifier.recipients("escalated") == ["bob"]
    [page] = [r for r in harness.notifier.requests if r["event"] == "escalated"]
    assert page["message"] == "Manual escalation by Dana: escalated to you at level 2 (Bob)."
    detail = await harness.detail(incident["id"])
    assert detail["escalation_level"] == 1
    events = [e["event_type"] for e in detail["timeline"]]
    assert events.index("escalation_requested") < events.index("escalated")
    # The last level: nothing further to page, and it says so rather than pretending.
    again = await harness.client.post(f"/api/v1/incidents/{incident['id']}/escalate", headers=harness.as_user("Dana"))
    assert again.status_code == 202
    await harness.tick()
    assert (await harness.events(incident["id"]))[-1] == "escalation_exhausted"
    resolved = await harness.patch(incident["id"], status="resolved", actor="Dana")
    assert resolved.status_code == 200
    refused = await harness.client.post(f"/api/v1/incidents/{incident['id']}/escalate", headers=harness.as_user("Dana"))
    assert refused.status_code == 409
    assert "resolved" in refused.json()["detail"]


async def test_a_stale_acknowledgement_returns_to_triggered_and_pages_again(harness):
    harness.oncall.configure("payments", levels=[(5, ["alice"]), (5, ["bob"])], acknowledgement_timeout_minutes=30)
    incident = await harness.create()
    assert incident["acknowledgement_timeout_minutes"] == 30
    await harness.tick()
    await harness.tick(minutes=2)
    acked = (await harness.patch(incident["id"], status="acknowledged", actor="alice")).json()
    mtta = acked["mtta_seconds"]
    await harness.tick(minutes=20)
    noted = await harness.client.post(
        f"/api/v1/incidents/{incident['id']}/notes", json={"body": "looking"}, headers=harness.as_user("alice")
    )
    assert noted.status_code == 201  # a touch: the 30 minutes start again
    await harness.tick(minutes=29)
    assert _paged(harness) == ["alice"]
    # The acting "alice" is another user than the paged one, who is told of the acknowledgement.
    assert harness.notifier.recipients("acknowledged") == ["alice"]
    await harness.tick(minutes=1)
    assert _paged(harness) == ["alice", "alice"]
    page = harness.notifier.requests[-1]
    assert page["message"] == (
        "Re-notify: this incident was acknowledged but untouched for 30 min; it is triggered again and you are"
        " paged at level 1 (Alice)."
    )
    detail = await harness.detail(incident["id"])
    assert detail["status"] == "open"
    assert detail["mtta_seconds"] == mtta, "the first acknowledgement's MTTA stands"
    assert detail["timeline"][-1]["event_type"] in ("renotified", "paged", "notified")
    # Back to triggered, it escalates again if nobody answers.
    await harness.tick(minutes=5)
    assert _paged(harness)[-1] == "bob"
    # Acknowledged again: MTTA still the first one.
    again = (await harness.patch(incident["id"], status="acknowledged", actor="bob")).json()
    assert again["mtta_seconds"] == mtta


async def test_without_an_acknowledgement_timeout_an_acknowledgement_never_runs_out(harness):
    harness.oncall.configure("payments", levels=[(5, ["alice"])])
    incident = await harness.create()
    await harness.tick()
    acked = (await harness.patch(incident["id"], status="acknowledged", actor="alice")).json()
    assert acked["next_escalation_at"] is None
    await harness.tick(hours=24)
    assert _paged(harness) == ["alice"]


def _paged(harness) -> list[str]:
    """Who was paged, in order: notices (of an acknowledgement, say) left out."""
    events = [request["event"] for request in harness.notifier.requests]
    return [
        who
        for who, event in zip(harness.notifier.recipients(), events, strict=True)
        if event in ("triggered", "escalated")
    ]
