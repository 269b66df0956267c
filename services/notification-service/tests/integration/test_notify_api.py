"""POST /api/v1/notify: users' contact methods and mutes (sent by the caller), idempotency, bad input."""

import asyncio
import uuid

import pytest

from platform_testing import user_with_token

USER = "0b7e4a52-1f7e-4c55-8d0f-1f3f7b0c9a22"


def contact(methods, **mutes):
    """The user as oncall-service's on-call answer describes them, which the caller passes on."""
    return {
        "name": "Ada",
        "contact_methods": [{"type": kind, "address": address} for kind, address in methods],
        "muted_channels": mutes.get("muted_channels", []),
        "muted_severities": mutes.get("muted_severities", []),
    }


async def test_user_is_paged_on_each_contact_method_and_mutes_are_kept_as_suppressed(
    client, receiver, smtp, settled, an_incident
):
    ada = contact(
        [
            ("email", "ada@example.com"),
            ("slack", f"{receiver.url}/slack"),
            ("webhook", f"{receiver.url}/hook"),
            ("sms", "+15550100"),
        ],
        muted_channels=["slack"],
    )
    response = await client.post(
        "/api/v1/notify", json={"event": "triggered", "incident": an_incident(), "user_id": USER, "contact": ada}
    )
    assert response.status_code == 202
    notifications = {n["channel"]: n for n in response.json()["notifications"]}
    assert set(notifications) == {"email", "slack", "webhook"}  # sms is data only
    assert notifications["slack"]["status"] == "suppressed"
    assert notifications["slack"]["last_error"] == "channel 'slack' is muted by the user"
    assert {n["recipient"] for n in notifications.values()} == {USER}

    assert (await settled(client, notifications["email"]["id"]))["status"] == "delivered"
    assert (await settled(client, notifications["webhook"]["id"]))["status"] == "delivered"
    assert [r.path for r in receiver.received] == ["/hook"]
    assert smtp.handler.messages[0].rcpt_tos == ["ada@example.com"]

    history = (await client.get("/api/v1/notifications", params={"recipient": USER})).json()
    assert history["total"] == 3
    assert {item["status"] for item in history["items"]} == {"delivered", "suppressed"}


async def test_muted_severity_suppresses_every_method(client, an_incident):
    ada = contact([("email", "ada@example.com")], muted_severities=["low", "info"])
    response = await client.post(
        "/api/v1/notify",
        json={"event": "triggered", "incident": an_incident(severity="low"), "user_id": USER, "contact": ada},
    )
    [notification] = response.json()["notifications"]
    assert notification["status"] == "suppressed"
    assert notification["last_error"] == "severity 'low' is muted by the user"


async def test_user_without_deliverable_methods_still_leaves_a_trace(client, an_incident):
    response = await client.post(
        "/api/v1/notify",
        json={
            "event": "triggered",
            "incident": an_incident(),
            "user_id": USER,
            "contact": contact([("phone", "+15550100")]),
        },
    )
    assert response.status_code == 202
    [notification] = response.json()["notifications"]
    assert notification["status"] == "suppressed"
    assert notification["channel"] is None
    assert "no contact method" in notification["last_error"]

    listed = (await client.get("/api/v1/notifications", params={"incident_id": an_incident()["id"]})).json()
    assert listed["total"] == 1
    assert listed["items"][0]["status"] == "suppressed"


async def test_explicit_targets_are_sent_beside_the_users_methods(client, receiver, an_incident):
    response = await client.post(
        "/api/v1/notify",
        json={
            "event": "acknowledged",
            "incident": an_incident(),
            "user_id": USER,
            "contact": contact([("email", "ada@example.com")], muted_channels=["email"]),
            "targets": [{"channel": "webhook", "target": f"{receiver.url}/team"}],
        },
    )
    statuses = {n["channel"]: n["status"] for n in response.json()["notifications"]}
    assert statuses == {"webhook": "pending", "email": "suppressed"}


async def test_a_user_without_their_contact_is_refused(client, an_incident):
    response = await client.post(
        "/api/v1/notify", json={"event": "triggered", "incident": an_incident(), "user_id": USER}
    )
    assert response.status_code == 422
    assert "contact" in str(response.json()["detail"])


async def test_a_page_is_accepted_and_delivered_while_oncall_service_is_down(
    make_client, receiver, settled, an_incident
):
    from platform_testing import free_port

    # Nothing listens where oncall-service would be: this service never asks it.
    async with make_client(oncall_service_url=f"http://127.0.0.1:{free_port()}") as client:
        response = await client.post(
            "/api/v1/notify",
            json={
                "idempotency_key": "k-down",
                "event": "triggered",
                "incident": an_incident(),
                "user_id": USER,
                "contact": contact([("webhook", f"{receiver.url}/ada")]),
            },
        )
        assert response.status_code == 202, response.text
        [notification] = response.json()["notifications"]
        assert (await settled(client, notification["id"]))["status"] == "delivered"
    assert [r.path for r in receiver.received] == ["/ada"]


async def test_repeat_with_same_key_returns_the_same_notifications_and_sends_once(
    client, receiver, settled, an_incident
):
    body = {
        "idempotency_key": "incident-1:step-0:user-1",
        "event": "triggered",
        "incident": an_incident(),
        "targets": [
            {"channel": "webhook", "target": f"{receiver.url}/a"},
            {"channel": "webhook", "target": f"{receiver.url}/b"},
        ],
    }
    first = await client.post("/api/v1/notify", json=body)
    second = await client.post("/api/v1/notify", json=body)
    assert first.status_code == 202
    assert second.status_code == 200
    assert second.json()["duplicate"] is True
    assert [n["id"] for n in second.json()["notifications"]] == [n["id"] for n in first.json()["notifications"]]

    for notification in first.json()["notifications"]:
        assert (await settled(client, notification["id"]))["status"] == "delivered"
    third = await client.post("/api/v1/notify", json=body)
    assert {n["status"] for n in third.json()["notifications"]} == {"delivered"}
    assert sorted(r.path for r in receiver.received) == ["/a", "/b"]
    assert (await client.get("/api/v1/notifications")).json()["total"] == 2


async def test_racing_repeats_of_one_key_store_one_set(client, receiver, an_incident):
    body = {
        "idempotency_key": "race-key",
        "event": "triggered",
        "incident": an_incident(),
        "targets": [{"channel": "webhook", "target": f"{receiver.url}/a"}],
    }
    responses = await asyncio.gather(*(client.post("/api/v1/notify", json=body) for _ in range(6)))
    assert sorted(r.status_code for r in responses) == [200] * 5 + [202]
    assert len({r.json()["notifications"][0]["id"] for r in responses}) == 1
    assert (await client.get("/api/v1/notifications")).json()["total"] == 1


@pytest.mark.parametrize(
    ("change", "complaint"),
    [
        ({"targets": None, "user_id": None}, "user_id, targets, or both"),
        ({"targets": [{"channel": "webhook", "target": "ftp://example.com"}]}, "http(s) URL"),
        ({"targets": [{"channel": "slack", "target": "not a url"}]}, "http(s) URL"),
        ({"targets": [{"channel": "email", "target": "Ada <ada@example.com>"}]}, "plain address"),
        ({"targets": [{"channel": "sms", "target": "+15550100"}]}, "channel"),
        ({"event": "exploded"}, "event"),
        ({"incident": {"id": "not-a-uuid", "title": "t", "service": "s", "severity": "critical"}}, "id"),
        ({"incident": {"id": str(uuid.uuid4()), "title": "t", "service": "s", "severity": "urgent"}}, "severity"),
        ({"user_id": "bob"}, "user_id"),
    ],
)
async def test_bad_input_is_a_clear_422(client, an_incident, change, complaint):
    body = {"event": "triggered", "incident": an_incident(), "targets": [{"channel": "log", "target": "x"}]}
    body.update(change)
    response = await client.post("/api/v1/notify", json=body)
    assert response.status_code == 422
    assert complaint in str(response.json()["detail"])


async def test_history_filters_and_paginates(client, an_incident):
    other = str(uuid.uuid4())
    for incident_id in (an_incident()["id"], an_incident()["id"], other):
        await client.post(
            "/api/v1/notify",
            json={
                "event": "triggered",
                "incident": an_incident(id=incident_id),
                "targets": [{"channel": "log", "target": "dev"}],
            },
        )
    page = (await client.get("/api/v1/notifications", params={"incident_id": an_incident()["id"], "limit": 1})).json()
    assert page["total"] == 2
    assert len(page["items"]) == 1
    assert page["limit"] == 1 and page["offset"] == 0
    assert (await client.get("/api/v1/notifications", params={"channel": "email"})).json()["total"] == 0
    assert (await client.get("/api/v1/notifications", params={"status": "bogus"})).status_code == 422
    assert (await client.get("/api/v1/notifications", params={"incident_id": "nope"})).status_code == 422
    assert (await client.get("/api/v1/notifications", params={"limit": 1000})).status_code == 422
    assert (await client.get(f"/api/v1/notifications/{uuid.uuid4()}")).status_code == 404


async def test_a_pages_slack_or_webhook_target_is_shown_whole_only_to_admins_and_its_recipient(
    client, an_incident, clean_database
):
    _, viewer = user_with_token(clean_database, "Vic", role="viewer")
    _, admin = user_with_token(clean_database, "Ada Admin", role="admin")
    hook = "https://hooks.example.com/services/T0/B0/s3cr3t"
    ada = contact([("webhook", hook), ("email", "ada@example.com")])
    sent = await client.post(
        "/api/v1/notify", json={"event": "triggered", "incident": an_incident(), "user_id": USER, "contact": ada}
    )
    assert sent.status_code == 202

    def targets(answer) -> dict[str, str]:
        return {n["channel"]: n["target"] for n in answer.json()["items"]}

    as_viewer = targets(await client.get("/api/v1/notifications", headers=viewer))
    assert as_viewer == {"webhook": "https://hooks.example.com/…", "email": "ada@example.com"}
    assert targets(await client.get("/api/v1/notifications", headers=admin))["webhook"] == hook
