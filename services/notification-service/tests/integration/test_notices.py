"""Notices that concern no incident (a contact method's test page, "you are on
call"): delivered like pages, over webhook, Slack and email, with their message."""

import email
import email.policy


def _notice(event: str, contact_methods: list[dict[str, str]], **extra):
    return {
        "event": event,
        "user_id": "6a1d6b2e-8a47-4b0e-9a57-7d3a0a4f7f10",
        "contact": {"name": "Noor", "contact_methods": contact_methods},
        "message": "You are on call for primary from Mon 02 Mar 10:00 CET until Tue 03 Mar 10:00 CET.",
        **extra,
    }


async def test_a_shift_notice_reaches_webhook_slack_and_email(client, receiver, smtp, settled):
    methods = [
        {"type": "webhook", "address": f"{receiver.url}/hook"},
        {"type": "slack", "address": f"{receiver.url}/slack"},
        {"type": "email", "address": "noor@example.com"},
    ]
    accepted = await client.post("/api/v1/notify", json=_notice("shift_start", methods, idempotency_key="n:1"))
    assert accepted.status_code == 202, accepted.text
    for notification in accepted.json()["notifications"]:
        row = await settled(client, notification["id"])
        # History keeps it, filed under no incident.
        assert (row["status"], row["incident_id"], row["severity"]) == ("delivered", None, "info")
    bodies = {r.path: r.json() for r in receiver.received}
    assert bodies["/hook"]["event"] == "shift_start"
    assert bodies["/hook"]["incident"] is None
    assert bodies["/hook"]["summary"].startswith("You are on call: You are on call for primary")
    assert "You are on call for primary" in bodies["/slack"]["text"]
    (mail,) = smtp.handler.messages
    message = email.message_from_bytes(mail.original_content, policy=email.policy.default)
    assert message["Subject"] == "You are on call"
    assert "Mon 02 Mar 10:00 CET" in message.get_body(("plain",)).get_content()
    repeat = await client.post("/api/v1/notify", json=_notice("shift_start", methods, idempotency_key="n:1"))
    assert (repeat.status_code, repeat.json()["duplicate"]) == (200, True)


async def test_notices_and_pages_each_need_their_own_shape(client, an_incident):
    hook = [{"type": "webhook", "address": "https://hooks.example.com/x"}]
    no_message = await client.post("/api/v1/notify", json={**_notice("test", hook), "message": None})
    assert no_message.status_code == 422
    assert "needs its message" in no_message.text
    with_incident = await client.post("/api/v1/notify", json=_notice("test", hook, incident=an_incident()))
    assert with_incident.status_code == 422
    page_without_incident = await client.post("/api/v1/notify", json=_notice("triggered", hook))
    assert page_without_incident.status_code == 422
    assert "needs its incident" in page_without_incident.text
