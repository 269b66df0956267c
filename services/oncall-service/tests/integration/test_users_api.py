"""Users, teams and services through the HTTP API: the shapes other services read."""

import pytest


async def test_user_with_contact_methods_and_mutes_reads_back_as_notification_service_expects(api, client):
    created = await api.post(
        "/api/v1/users",
        {
            "name": "Ann Example",
            "email": "Ann@Example.com",
            "timezone": "Europe/Berlin",
            "contact_methods": [
                {"type": "email", "address": "ann@example.com"},
                {"type": "slack", "address": "https://hooks.slack.com/services/T000/B000/XXXX"},
                {"type": "phone", "address": "+49 (30) 1234-5678"},
            ],
            "muted_channels": ["slack", "slack"],
            "muted_severities": ["info", "low"],
        },
    )
    response = await client.get(f"/api/v1/users/{created['id']}")
    assert response.status_code == 200
    user = response.json()
    assert user["email"] == "ann@example.com"
    assert user["timezone"] == "Europe/Berlin"
    assert [(m["type"], m["address"]) for m in user["contact_methods"]] == [
        ("email", "ann@example.com"),
        ("slack", "https://hooks.slack.com/services/T000/B000/XXXX"),
        ("phone", "+493012345678"),
    ]
    assert all(m["id"] for m in user["contact_methods"])
    assert user["muted_channels"] == ["slack"]
    assert user["muted_severities"] == ["info", "low"]


async def test_contact_methods_can_be_added_and_removed_and_users_updated(api, client):
    user = await api.user("Bob")
    method = await api.post(
        f"/api/v1/users/{user['id']}/contact-methods", {"type": "webhook", "address": "https://example.com/hook"}
    )
    duplicate = await client.post(
        f"/api/v1/users/{user['id']}/contact-methods", json={"type": "webhook", "address": "https://example.com/hook"}
    )
    assert duplicate.status_code == 409
    patched = await client.patch(f"/api/v1/users/{user['id']}", json={"name": "Bobby", "muted_channels": ["email"]})
    assert patched.status_code == 200
    assert patched.json()["name"] == "Bobby" and patched.json()["muted_channels"] == ["email"]
    assert len(patched.json()["contact_methods"]) == 1
    removed = await client.delete(f"/api/v1/users/{user['id']}/contact-methods/{method['id']}")
    assert removed.status_code == 204
    assert (await client.get(f"/api/v1/users/{user['id']}")).json()["contact_methods"] == []


async def test_users_list_is_paginated_and_searchable(api, client):
    await api.users("Ann", "Bob", "Cy")
    page = (await client.get("/api/v1/users", params={"limit": 2, "offset": 1})).json()
    assert [u["name"] for u in page["items"]] == ["Bob", "Cy"]
    assert (page["total"], page["limit"], page["offset"]) == (3, 2, 1)
    found = (await client.get("/api/v1/users", params={"q": "bo"})).json()
    assert [u["name"] for u in found["items"]] == ["Bob"]


async def test_team_with_members_owns_services(api, client):
    ann, bob = await api.users("Ann", "Bob")
    team = await api.post(
        "/api/v1/teams", {"name": "Payments", "members": [{"user_id": ann, "role": "manager"}, {"user_id": bob}]}
    )
    assert {(m["user"]["name"], m["role"]) for m in team["members"]} == {("Ann", "manager"), ("Bob", "member")}
    service = await api.post("/api/v1/services", {"name": "checkout", "team_id": team["id"]})
    listed = (await client.get("/api/v1/services", params={"team_id": team["id"]})).json()
    assert [s["name"] for s in listed["items"]] == ["checkout"] and listed["total"] == 1
    removed = await client.delete(f"/api/v1/teams/{team['id']}/members/{bob}")
    assert removed.status_code == 204
    cy = (await api.user("Cy"))["id"]
    put = await client.put(f"/api/v1/teams/{team['id']}/members/{cy}", json={"role": "manager"})
    assert sorted(m["user"]["name"] for m in put.json()["members"]) == ["Ann", "Cy"]
    # Deleting the team keeps its services, now without an owner.
    assert (await client.delete(f"/api/v1/teams/{team['id']}")).status_code == 204
    assert (await client.get(f"/api/v1/services/{service['id']}")).json()["team_id"] is None


@pytest.mark.parametrize(
    ("body", "fragment"),
    [
        ({"name": "X", "email": "not-an-email"}, "email"),
        ({"name": "", "email": "x@example.com"}, "name"),
        ({"name": "X", "email": "x@example.com", "timezone": "Mars/Olympus"}, "unknown timezone"),
        ({"name": "X", "email": "x@example.com", "contact_methods": [{"type": "pager", "address": "1"}]}, "type"),
        ({"name": "X", "email": "x@example.com", "contact_methods": [{"type": "slack", "address": "nope"}]}, "slack"),
        ({"name": "X", "email": "x@example.com", "contact_methods": [{"type": "sms", "address": "12"}]}, "E.164"),
        ({"name": "X", "email": "x@example.com", "muted_severities": ["sev1"]}, "muted_severities"),
        ({"name": "X", "email": "x@example.com", "nickname": "x"}, "nickname"),
    ],
)
async def test_bad_user_input_is_refused_with_422(client, body, fragment):
    response = await client.post("/api/v1/users", json=body)
    assert response.status_code == 422
    assert fragment in response.text


async def test_duplicate_names_and_emails_conflict_and_unknown_ids_are_404_or_422(api, client):
    await api.user("Ann")
    again = await client.post("/api/v1/users", json={"name": "Other", "email": "ANN@example.com"})
    assert again.status_code == 409 and "already exists" in again.json()["detail"]
    await api.post("/api/v1/teams", {"name": "Ops"})
    assert (await client.post("/api/v1/teams", json={"name": "Ops"})).status_code == 409
    missing = "00000000-0000-4000-8000-000000000000"
    assert (await client.get(f"/api/v1/users/{missing}")).status_code == 404
    assert (await client.get("/api/v1/users/not-a-uuid")).status_code == 404
    assert (await client.patch("/api/v1/users/not-a-uuid", json={})).status_code == 422
    unknown_member = await client.post("/api/v1/teams", json={"name": "Sec", "members": [{"user_id": missing}]})
    assert unknown_member.status_code == 422
    assert unknown_member.json()["missing_ids"] == [missing]
    unknown_team = await client.post("/api/v1/services", json={"name": "api", "team_id": missing})
    assert unknown_team.status_code == 422 and "unknown team" in unknown_team.json()["detail"]


async def test_patching_a_team_replaces_its_members_and_policy(api, client):
    ann, bob, cy = await api.users("Ann", "Bob", "Cy")
    team = await api.post("/api/v1/teams", {"name": "Web", "members": [{"user_id": ann}, {"user_id": bob}]})
    policy = await api.post(
        "/api/v1/escalation-policies",
        {"name": "Web", "levels": [{"delay_minutes": 5, "targets": [{"type": "user", "id": ann}]}]},
    )
    patched = await client.patch(
        f"/api/v1/teams/{team['id']}",
        json={
            "description": "front end",
            "escalation_policy_id": policy["id"],
            "members": [{"user_id": bob, "role": "manager"}, {"user_id": cy}],
        },
    )
    assert patched.status_code == 200, patched.text
    again = (await client.get(f"/api/v1/teams/{team['id']}")).json()
    assert sorted((m["user"]["name"], m["role"]) for m in again["members"]) == [("Bob", "manager"), ("Cy", "member")]
    assert again["escalation_policy_id"] == policy["id"] and again["description"] == "front end"
    cleared = await client.patch(f"/api/v1/teams/{team['id']}", json={"escalation_policy_id": None})
    assert cleared.json()["escalation_policy_id"] is None and len(cleared.json()["members"]) == 2
    twice = await client.patch(f"/api/v1/teams/{team['id']}", json={"members": [{"user_id": ann}, {"user_id": ann}]})
    assert twice.status_code == 422
