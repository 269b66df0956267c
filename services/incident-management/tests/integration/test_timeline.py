"""The timeline tells the whole story of an incident, in order, with who and when."""

from datetime import datetime


async def test_a_full_incident_story_is_in_the_timeline(harness):
    harness.oncall.configure("payments", levels=[(5, ["alice"]), (5, ["bob"])])
    integration = {"id": "5b0a3f57-0c4e-4d8e-9a55-4d1f3e0f2b10", "name": "prometheus"}
    incident = await harness.create(acting_integration=integration)
    await harness.tick()  # page alice
    await harness.settle("delivered", recipient="alice")  # pushed by notification-service
    await harness.tick(minutes=5)  # nobody acknowledged: bob
    await harness.tick()  # page bob
    await harness.settle("failed", "webhook answered 500", recipient="bob")
    assert (await harness.patch(incident["id"], status="acknowledged", actor="bob")).status_code == 200
    await harness.client.post(
        f"/api/v1/incidents/{incident['id']}/notes", json={"body": "Rolling back"}, headers=harness.as_user("bob")
    )
    assert (await harness.patch(incident["id"], status="in_progress", actor="bob")).status_code == 200
    await harness.tick(minutes=3)
    assert (await harness.patch(incident["id"], status="resolved", actor="bob", note="Fixed")).status_code == 200

    timeline = (await harness.detail(incident["id"]))["timeline"]
    story = [(e["event_type"], e["actor"]) for e in timeline]
    assert story == [
        ("created", "integration prometheus"),
        ("assigned", "incident-management"),
        ("paged", "incident-management"),
        ("notified", "notification-service"),
        ("notified", "notification-service"),
        ("escalated", "incident-management"),
        ("paged", "incident-management"),
        ("notification_failed", "notification-service"),
        ("notification_failed", "notification-service"),
        ("acknowledged", "bob"),
        ("note_added", "bob"),
        ("in_progress", "bob"),
        # Both paged responders are told of the acknowledgement (the acting "bob" is another user here).
        ("notice_sent", "incident-management"),
        ("notice_sent", "incident-management"),
        ("resolved", "bob"),
        ("note_added", "bob"),
    ]
    times = [datetime.fromisoformat(e["created_at"]) for e in timeline]
    assert times == sorted(times)
    assert all(e["message"] for e in timeline)
    assert "webhook answered 500" in timeline[7]["message"]
