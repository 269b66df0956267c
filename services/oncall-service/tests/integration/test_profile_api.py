"""Self-service paging settings: a user's own contact methods (with a test page) and
notification rules, the user or an admin only; and what the on-call answer carries
of them for incident-management."""

import pytest

from platform_testing import user_with_token


@pytest.fixture
def noor(clean_database):
    """A responder with her own token."""
    return user_with_token(clean_database, "Noor")


async def _method(client, user_id, type_, address, headers=None):
    added = await client.post(
        f"/api/v1/users/{user_id}/contact-methods", json={"type": type_, "address": address}, headers=headers
    )
    assert added.status_code == 201, added.text
    return added.json()["id"]


async def test_a_responder_sets_their_own_rules_and_another_may_not(client, clean_database, noor):
    noor_id, own = noor
    hook = await _method(client, noor_id, "webhook", "https://hooks.example.com/noor", own)
    mail = await _method(client, noor_id, "email", "noor@example.com", own)
    steps = [{"delay_minutes": 0, "contact_method_id": hook}, {"delay_minutes": 5, "contact_method_id": mail}]
    saved = await client.put(f"/api/v1/users/{noor_id}/notification-rules", json={"high": steps}, headers=own)
    assert saved.status_code == 200, saved.text
    body = saved.json()
    assert [(s["delay_minutes"], s["contact_method"]["type"]) for s in body["high"]] == [(0, "webhook"), (5, "email")]
    assert body["low"] == []
    assert (await client.get(f"/api/v1/users/{noor_id}/notification-rules", headers=own)).json() == body

    _, other = user_with_token(clean_database, "Omar")
    assert (await client.get(f"/api/v1/users/{noor_id}/notification-rules", headers=other)).status_code == 403
    refused = await client.put(f"/api/v1/users/{noor_id}/notification-rules", json={"high": []}, headers=other)
    assert refused.status_code == 403
    # A viewer manages their own; an admin (here the platform) anyone's.
    viewer_id, viewer = user_with_token(clean_database, "Vera", role="viewer")
    viewer_hook = await _method(client, viewer_id, "webhook", "https://hooks.example.com/vera", viewer)
    mine = await client.put(
        f"/api/v1/users/{viewer_id}/notification-rules",
        json={"low": [{"delay_minutes": 0, "contact_method_id": viewer_hook}]},
        headers=viewer,
    )
    assert mine.status_code == 200, mine.text
    assert (await client.put(f"/api/v1/users/{noor_id}/notification-rules", json={})).json()["high"] == []


async def test_bad_rules_are_refused_with_a_clear_422(client, clean_database, noor):
    noor_id, own = noor
    hook = await _method(client, noor_id, "webhook", "https://hooks.example.com/noor", own)
    omar_id, _ = user_with_token(clean_database, "Omar")
    omars = await _method(client, omar_id, "email", "omar@example.com")
    url = f"/api/v1/users/{noor_id}/notification-rules"
    foreign = await client.put(url, json={"high": [{"delay_minutes": 0, "contact_method_id": omars}]})
    assert foreign.status_code == 422
    assert "not one of this user's" in foreign.text
    backwards = [{"delay_minutes": 5, "contact_method_id": hook}, {"delay_minutes": 0, "contact_method_id": hook}]
    unordered = await client.put(url, json={"high": backwards})
    assert unordered.status_code == 422
    assert "in order of their delays" in unordered.text
    too_late = await client.put(url, json={"low": [{"delay_minutes": 1441, "contact_method_id": hook}]})
    assert too_late.status_code == 422
    assert (await client.put(url, json={"high": [{"delay_minutes": 0, "contact_method_id": "x"}]})).status_code == 422
    unknown = await client.put(
        "/api/v1/users/00000000-0000-0000-0000-000000000000/notification-rules", json={"high": []}
    )
    assert unknown.status_code == 404


async def test_removing_a_contact_method_removes_its_steps(client, noor):
    noor_id, own = noor
    hook = await _method(client, noor_id, "webhook", "https://hooks.example.com/noor", own)
    mail = await _method(client, noor_id, "email", "noor@example.com", own)
    steps = [{"delay_minutes": 0, "contact_method_id": hook}, {"delay_minutes": 1, "contact_method_id": mail}]
    await client.put(f"/api/v1/users/{noor_id}/notification-rules", json={"high": steps, "low": steps}, headers=own)
    removed = await client.delete(f"/api/v1/users/{noor_id}/contact-methods/{mail}", headers=own)
    assert removed.status_code == 204
    rules = (await client.get(f"/api/v1/users/{noor_id}/notification-rules", headers=own)).json()
    assert [s["contact_method_id"] for s in rules["high"]] == [hook]
    assert [s["contact_method_id"] for s in rules["low"]] == [hook]


async def test_the_on_call_answer_carries_rules_and_the_services_high_urgency(api, client, noor):
    noor_id, own = noor
    hook = await _method(client, noor_id, "webhook", "https://hooks.example.com/noor", own)
    await client.put(
        f"/api/v1/users/{noor_id}/notification-rules",
        json={"low": [{"delay_minutes": 3, "contact_method_id": hook}]},
        headers=own,
    )
    policy = await api.post(
        "/api/v1/escalation-policies",
        {"name": "p", "levels": [{"delay_minutes": 5, "targets": [{"type": "user", "id": str(noor_id)}]}]},
    )
    made = await api.post(
        "/api/v1/services",
        {"name": "search", "escalation_policy_id": policy["id"], "high_urgency_severities": ["critical"]},
    )
    assert made["high_urgency_severities"] == ["critical"]
    body = (await client.get("/api/v1/oncall/current", params={"service": "search"})).json()
    assert body["service"]["high_urgency_severities"] == ["critical"]
    (user,) = body["escalation_chain"][0]["users"]
    assert user["notification_rules"] == [
        {"urgency": "low", "position": 0, "delay_minutes": 3, "contact_method_id": hook}
    ]
    changed = await client.patch(f"/api/v1/services/{made['id']}", json={"high_urgency_severities": ["nope"]})
    assert changed.status_code == 422


async def test_a_test_page_while_notification_service_is_down_is_a_503(client, noor):
    noor_id, own = noor
    hook = await _method(client, noor_id, "webhook", "https://hooks.example.com/noor", own)
    sent = await client.post(f"/api/v1/users/{noor_id}/contact-methods/{hook}/test", headers=own)
    assert sent.status_code == 503, sent.text
    assert sent.headers["Retry-After"]
    missing = await client.post(
        f"/api/v1/users/{noor_id}/contact-methods/00000000-0000-0000-0000-000000000000/test", headers=own
    )
    assert missing.status_code == 404
