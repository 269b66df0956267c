"""Integration keys: issued once, stored hashed, listed without the key, revocable."""

import uuid


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
