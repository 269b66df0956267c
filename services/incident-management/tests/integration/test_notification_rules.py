"""Notification rules and notices in the engine, on a hand-moved clock: each step
of a person's rules goes out when due and an acknowledgement cancels the rest;
the outbox gauges do not count a step waiting its delay; everyone paged is told
of an acknowledgement once, by their first contact method."""

import uuid

from .test_state_gauges import _scrape, _value

HOOK = {"type": "webhook", "address": "https://hooks.example.com/alice"}
MAIL = {"type": "email", "address": "alice@example.com"}
HOOK_ID, MAIL_ID = str(uuid.uuid4()), str(uuid.uuid4())


def _with_rules(harness, service: str, *, high: bool = True) -> None:
    """alice and bob at level 1; alice's rules: webhook at once, email after a minute."""
    harness.oncall.configure(service, levels=[(30, ["alice", "bob"])])
    alice = harness.oncall.answers[service]["escalation_chain"][0]["users"][0]
    alice["contact_methods"] = [{"id": HOOK_ID, **HOOK}, {"id": MAIL_ID, **MAIL}]
    urgency = "high" if high else "low"
    alice["notification_rules"] = [
        {"urgency": urgency, "position": 0, "delay_minutes": 0, "contact_method_id": HOOK_ID},
        {"urgency": urgency, "position": 1, "delay_minutes": 1, "contact_method_id": MAIL_ID},
    ]


def _alice_methods(harness, event: str = "triggered") -> list[list[dict]]:
    """The contact methods of each of alice's requests of this event, in order."""
    return [
        [{"type": m["type"], "address": m["address"]} for m in r["contact"]["contact_methods"]]
        for r in harness.notifier.requests
        if r["contact"] and r["contact"]["name"] == "Alice" and r["event"] == event
    ]


async def test_each_step_goes_out_when_due_and_a_waiting_step_is_no_undelivered_page(harness):
    _with_rules(harness, "payments")
    await harness.create(severity="critical")
    await harness.tick()
    assert _alice_methods(harness) == [[HOOK]]
    samples = await _scrape(harness)
    assert _value(samples, "incident_outbox_depth") == 0, "the email step waits its minute; it is not late"
    assert _value(samples, "incident_oldest_undelivered_page_age_seconds") == 0
    await harness.tick(seconds=59)
    assert _alice_methods(harness) == [[HOOK]]
    await harness.tick(seconds=1)
    assert _alice_methods(harness) == [[HOOK], [MAIL]]


async def test_an_acknowledgement_cancels_the_later_steps_and_tells_the_others_once(harness):
    _with_rules(harness, "payments")
    incident = await harness.create(severity="high")
    await harness.tick()
    assert (await harness.patch(incident["id"], status="acknowledged", actor="bob")).status_code == 200
    await harness.tick(minutes=5)
    assert _alice_methods(harness) == [[HOOK]], "the email step was cancelled"
    # A notice each to the two paged (the acting "bob" is another user), by the first
    # of the contact methods oncall-service has for them now (the fake's: an email).
    assert sorted(harness.notifier.recipients("acknowledged")) == ["alice", "bob"]
    assert _alice_methods(harness, "acknowledged") == [[MAIL]]
    assert (await harness.patch(incident["id"], status="resolved", actor="bob")).status_code == 200
    await harness.tick()
    await harness.tick(minutes=1)
    assert sorted(harness.notifier.recipients("resolved")) == ["alice", "bob"]
    assert sorted(harness.notifier.recipients("acknowledged")) == ["alice", "bob"], "told once"
    events = [e for e in await harness.events(incident["id"]) if e == "notice_sent"]
    assert len(events) == 4


async def test_a_severity_the_service_deems_low_urgency_follows_the_low_rules(harness):
    _with_rules(harness, "payments", high=False)
    harness.oncall.answers["payments"]["service"]["high_urgency_severities"] = ["critical"]
    await harness.create(severity="high")  # low urgency here: alice's low rules apply
    await harness.tick()
    await harness.tick(minutes=1)
    assert _alice_methods(harness) == [[HOOK], [MAIL]]
    # Critical is high urgency, where alice has no rules: every method at once.
    harness.notifier.requests.clear()
    await harness.create(severity="critical")
    await harness.tick()
    assert _alice_methods(harness) == [[HOOK, MAIL]]


def _steps_of(user_id: str, urgency: str = "high") -> dict[str, list[dict]]:
    """Webhook at once, email after a minute, as `GET /api/v1/users/{id}/notification-rules` answers."""
    return {
        urgency: [
            {
                "id": str(uuid.uuid4()),
                "delay_minutes": 0,
                "contact_method_id": HOOK_ID,
                "contact_method": {"id": HOOK_ID, **HOOK},
            },
            {
                "id": str(uuid.uuid4()),
                "delay_minutes": 1,
                "contact_method_id": MAIL_ID,
                "contact_method": {"id": MAIL_ID, **MAIL},
            },
        ]
    }


def _methods_to(harness, user_id: str, event: str = "triggered") -> list[list[dict]]:
    """The contact methods of each of this user's requests of this event, in order."""
    return [
        [{"type": m["type"], "address": m["address"]} for m in r["contact"]["contact_methods"]]
        for r in harness.notifier.requests
        if r["user_id"] == user_id and r["event"] == event
    ]


async def test_a_page_to_someone_assigned_by_hand_follows_their_rules(harness):
    carol = str(harness.user_id("carol"))
    harness.oncall.rules[carol] = _steps_of(carol)
    incident = await harness.create(assigned_to=carol, severity="critical")
    await harness.tick()
    assert _methods_to(harness, carol) == [[HOOK]], "the first step only, not every method at once"
    await harness.tick(seconds=59)
    assert _methods_to(harness, carol) == [[HOOK]]
    await harness.tick(seconds=1)
    assert _methods_to(harness, carol) == [[HOOK], [MAIL]]
    pages = (await harness.detail(incident["id"]))["pages"]
    assert [p["status"] for p in pages] == ["sent", "sent"]


async def test_an_acknowledgement_cancels_the_later_steps_of_a_hand_made_page(harness):
    carol = str(harness.user_id("carol"))
    harness.oncall.rules[carol] = _steps_of(carol)
    incident = await harness.create(assigned_to=carol, severity="high")
    await harness.tick()
    assert (await harness.patch(incident["id"], status="acknowledged", actor="carol")).status_code == 200
    await harness.tick(minutes=5)
    assert _methods_to(harness, carol) == [[HOOK]], "the email step was cancelled"


async def test_the_page_at_a_snoozes_end_follows_the_rules_too(harness):
    _with_rules(harness, "payments")
    alice = harness.oncall.answers["payments"]["escalation_chain"][0]["users"][0]["id"]
    harness.oncall.rules[alice] = _steps_of(alice)
    incident = await harness.create(severity="critical")
    await harness.tick()
    assert (await harness.patch(incident["id"], status="acknowledged", actor="bob")).status_code == 200
    snoozed = await harness.client.post(f"/api/v1/incidents/{incident['id']}/snooze", json={"minutes": 30})
    assert snoozed.status_code == 200, snoozed.text
    await harness.tick(minutes=31)
    assert (await harness.detail(incident["id"]))["status"] == "open"
    assert _methods_to(harness, alice) == [[HOOK], [HOOK]], "the snooze's end: the first step only"
    await harness.tick(minutes=1)
    assert _methods_to(harness, alice) == [[HOOK], [HOOK], [MAIL]]


async def test_a_handover_of_an_acknowledged_incident_sends_the_first_step_alone(harness):
    dave, carol = str(harness.user_id("dave")), str(harness.user_id("carol"))
    harness.oncall.rules[carol] = _steps_of(carol)
    incident = await harness.create(assigned_to=dave, severity="critical")
    await harness.tick()
    assert (await harness.patch(incident["id"], status="acknowledged", actor="dave")).status_code == 200
    assert (await harness.patch(incident["id"], assigned_to=carol, actor="dave")).status_code == 200
    await harness.tick()
    assert _methods_to(harness, carol) == [[HOOK]], "a handover is paged even after acknowledgement"
    await harness.tick(minutes=5)
    assert _methods_to(harness, carol) == [[HOOK]], "acknowledged already: the later steps are not wanted"
