"""Bad input to the generic endpoint: a clear 4xx, never a 500, nothing stored."""

import pytest

GOOD = {"service": "checkout", "severity": "high", "message": "boom"}


@pytest.fixture
async def sender(client, integration_key):
    """The headers of a sender with checkout's key."""
    return {"Authorization": f"Bearer {await integration_key(client, service='checkout', type_='generic')}"}


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({k: v for k, v in GOOD.items() if k != "message"}, "message"),
        (GOOD | {"message": "   "}, "message"),
        (GOOD | {"service": ""}, "service"),
        (GOOD | {"severity": "urgent"}, "severity"),
        (GOOD | {"severity": None}, "severity"),
        (GOOD | {"labels": ["a"]}, "labels"),
        (GOOD | {"message": 42}, "message"),
        (GOOD | {"timestamp": "yesterday"}, "timestamp"),
        (GOOD | {"timestamp": "2026-11-23T10:00:00"}, "timestamp"),  # no offset
        (GOOD | {"service": "s" * 201}, "service"),
        (GOOD | {"dedup_key": "k" * 256}, "dedup_key"),
    ],
)
async def test_invalid_fields_are_422_with_the_field_named(client, db, sender, body, field):
    response = await client.post("/api/v1/alerts", json=body, headers=sender)
    assert response.status_code == 422
    assert any(error["loc"][-1] == field for error in response.json()["detail"]), response.json()
    assert db.scalar("SELECT count(*) FROM alerts") == 0
    assert db.scalar("SELECT count(*) FROM alert_incident_actions") == 0


@pytest.mark.parametrize("content", [b"", b"{", b"not json", b"\xff\xfe"])
async def test_malformed_bodies_are_400(client, db, sender, content):
    response = await client.post(
        "/api/v1/alerts", content=content, headers=sender | {"content-type": "application/json"}
    )
    assert response.status_code == 400
    assert isinstance(response.json()["detail"], str)
    assert db.scalar("SELECT count(*) FROM alerts") == 0


async def test_non_object_body_is_422(client, db, sender):
    response = await client.post("/api/v1/alerts", json=[GOOD], headers=sender)
    assert response.status_code == 422
    assert response.json()["detail"]
    assert db.scalar("SELECT count(*) FROM alerts") == 0


async def test_oversize_body_is_413(client, db):
    response = await client.post("/api/v1/alerts", json=GOOD | {"message": "x" * 2_000_000})
    assert response.status_code == 413
    assert "detail" in response.json()
    assert db.scalar("SELECT count(*) FROM alerts") == 0
    assert db.scalar("SELECT count(*) FROM alert_incident_actions") == 0


async def test_no_integration_key_is_401_before_the_body_is_read(client, db):
    # No key at all: refused, even with a body that would not parse.
    response = await client.post("/api/v1/alerts", content=b"{", headers={"Authorization": ""})
    assert response.status_code == 401
    assert "integration key is required" in response.json()["detail"]
    assert db.scalar("SELECT count(*) FROM alerts") == 0


async def test_a_key_speaks_for_its_own_service_only(client, db, sender):
    response = await client.post("/api/v1/alerts", json=GOOD | {"service": "payments"}, headers=sender)
    assert response.status_code == 403
    assert "'checkout'" in response.json()["detail"]
    assert db.scalar("SELECT count(*) FROM alerts") == 0


async def test_unknown_integration_key_is_401(client, db):
    response = await client.post("/api/v1/alerts", json=GOOD, headers={"Authorization": "Bearer wrong"})
    assert response.status_code == 401
    assert "key" in response.json()["detail"].lower()
    assert db.scalar("SELECT count(*) FROM alerts") == 0


async def test_key_names_the_service_when_the_body_does_not(client, integration_key):
    key = await integration_key(client, service="billing", type_="generic")
    body = {k: v for k, v in GOOD.items() if k != "service"}
    response = await client.post("/api/v1/alerts", json=body, headers={"Authorization": f"Bearer {key}"})
    assert response.status_code == 202
    alert = (await client.get(f"/api/v1/alerts/{response.json()['alert_id']}")).json()
    assert alert["service"] == "billing"
    assert alert["integration_id"] is not None
