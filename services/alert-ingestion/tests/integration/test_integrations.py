"""Integration keys: issued once, stored hashed, listed without the key, revocable."""

import uuid

from platform_testing import user_with_token


async def test_create_list_revoke(client, db):
    created = await client.post(
        "/api/v1/integrations", json={"name": "prod am", "service": "api", "type": "alertmanager"}
    )
    assert created.status_code == 201
    body = created.json()
    assert len(body["key"]) == 32
    assert body["key_prefix"] == body["key"][:8]
    # Only the hash is stored.
    assert db.scalar("SELECT count(*) FROM integrations WHERE key_hash = :k", k=body["key"]) == 0

    listed = (await client.get("/api/v1/integrations")).json()
    assert listed["total"] == 1
    assert "key" not in listed["items"][0]

    assert (await client.delete(f"/api/v1/integrations/{body['id']}")).status_code == 204
    assert (await client.get("/api/v1/integrations")).json()["total"] == 0
    assert (await client.get("/api/v1/integrations", params={"include_revoked": True})).json()["total"] == 1
    assert (await client.delete(f"/api/v1/integrations/{uuid.uuid4()}")).status_code == 404


async def test_invalid_integration_input(client):
    for body in ({"name": "x", "service": "y", "type": "nagios"}, {"name": "", "service": "y"}, {"service": "y"}):
        response = await client.post("/api/v1/integrations", json=body)
        assert response.status_code == 422
        assert response.json()["detail"]
    assert (await client.get("/api/v1/integrations")).json()["total"] == 0


async def test_integrations_are_listed_a_page_at_a_time(client):
    made = []
    for n in range(5):
        created = await client.post("/api/v1/integrations", json={"name": f"key {n}", "service": "api"})
        made.append(created.json()["id"])
    await client.delete(f"/api/v1/integrations/{made[0]}")
    first = (await client.get("/api/v1/integrations", params={"limit": 2})).json()
    second = (await client.get("/api/v1/integrations", params={"limit": 2, "offset": 2})).json()
    # Oldest first; the total counts every live one, not the page.
    assert [i["id"] for i in first["items"] + second["items"]] == made[1:]
    assert first["total"] == second["total"] == 4
    every = (await client.get("/api/v1/integrations", params={"include_revoked": True, "limit": 1})).json()
    assert every["total"] == 5 and [i["id"] for i in every["items"]] == made[:1]
    for bad in ({"limit": 0}, {"limit": 201}, {"offset": -1}):
        refused = await client.get("/api/v1/integrations", params=bad)
        assert refused.status_code == 422, bad
        assert refused.json()["detail"]


async def test_only_admins_and_the_platform_see_a_keys_first_characters(client, clean_database):
    created = (await client.post("/api/v1/integrations", json={"name": "prod am", "service": "api"})).json()
    prefixes = {}
    for role in ("viewer", "responder", "admin"):
        _, headers = user_with_token(clean_database, f"someone {role}", role=role)
        listed = await client.get("/api/v1/integrations", headers=headers)
        assert listed.status_code == 200, listed.text
        prefixes[role] = listed.json()["items"][0]["key_prefix"]
    prefixes["platform"] = (await client.get("/api/v1/integrations")).json()["items"][0]["key_prefix"]
    assert prefixes == {"viewer": None, "responder": None, "admin": created["key"][:8], "platform": created["key"][:8]}
