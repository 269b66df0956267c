"""POST /v2/enqueue: PagerDuty Events API v2 semantics, bodies and errors."""

import uuid

import pytest


def trigger(key: str, dedup_key: str | None = None, **payload: object) -> dict:
    event = {
        "routing_key": key,
        "event_action": "trigger",
        "payload": {"summary": "Disk full on db-1", "source": "db-1", "severity": "error"} | payload,
    }
    if dedup_key:
        event["dedup_key"] = dedup_key
    return event


def action(key: str, event_action: str, dedup_key: str) -> dict:
    return {"routing_key": key, "event_action": event_action, "dedup_key": dedup_key}


def incident_of(db, dedup_key: str):
    """The incident of the newest alert of this dedup key (with its alert_count), or None while it is being opened."""
    incident_id = db.scalar(
        "SELECT incident_id FROM alerts WHERE dedup_key = :k ORDER BY received_at DESC LIMIT 1", k=dedup_key
    )
    return db.incident(incident_id) if incident_id else None


async def opened_incident_of(db, dedup_key: str):
    """incident_of, once incident-management opened it (just after the 202)."""
    incident_id = db.scalar(
        "SELECT incident_id FROM alerts WHERE dedup_key = :k ORDER BY received_at DESC LIMIT 1", k=dedup_key
    )
    assert incident_id is not None, f"no alert with dedup key {dedup_key}"
    return await db.incident_eventually(incident_id)


async def test_trigger_answers_like_pagerduty_and_opens_incident(client, db, integration_key):
    key = await integration_key(client, service="payments")
    response = await client.post("/v2/enqueue", json=trigger(key, "disk-db-1"))

    assert response.status_code == 202
    assert response.json() == {"status": "success", "message": "Event processed", "dedup_key": "disk-db-1"}
    incident = await opened_incident_of(db, "disk-db-1")
    # The integration names the service; PagerDuty's `error` is our `high`.
    assert (incident.service, incident.severity, incident.alert_count) == ("payments", "high", 1)


async def test_trigger_without_dedup_key_gets_one_to_resolve_with(client, db, integration_key, wait_for):
    key = await integration_key(client)
    generated = (await client.post("/v2/enqueue", json=trigger(key))).json()["dedup_key"]
    assert generated

    await client.post("/v2/enqueue", json=action(key, "resolve", generated))

    assert await wait_for(lambda: getattr(incident_of(db, generated), "status", None) == "resolved")


async def test_acknowledge_and_resolve_move_the_incident_through_incident_management(
    client, db, integration_key, incident_service, wait_for
):
    key = await integration_key(client)
    await client.post("/v2/enqueue", json=trigger(key, "k1"))

    ack = await client.post("/v2/enqueue", json=action(key, "acknowledge", "k1"))
    assert ack.status_code == 202
    assert ack.json()["dedup_key"] == "k1"
    assert await wait_for(lambda: getattr(incident_of(db, "k1"), "status", None) == "acknowledged")
    assert db.scalar("SELECT status FROM alerts WHERE dedup_key = 'k1'") == "acknowledged"

    await client.post("/v2/enqueue", json=action(key, "resolve", "k1"))
    assert await wait_for(lambda: incident_of(db, "k1").status == "resolved")
    assert db.scalar("SELECT status FROM alerts WHERE dedup_key = 'k1'") == "resolved"
    # The create first, then the two moves, each once.
    calls = [(method, body.get("status")) for method, _, body in incident_service.sent()]
    assert calls == [("POST", None), ("PATCH", "acknowledged"), ("PATCH", "resolved")]
    owed = "SELECT array_agg(action || ':' || status ORDER BY seq) FROM alert_incident_actions"
    assert await wait_for(lambda: db.scalar(owed) == ["create:done", "acknowledge:done", "resolve:done"])


async def test_acknowledge_owed_while_the_create_is_in_flight_follows_it_at_once(
    make_client, db, integration_key, incident_service, wait_for
):
    """The acknowledge may not overtake the create of its incident; it is sent
    as soon as the create is through, without waiting for the retry loop (off here)."""
    incident_service.mode = "slow"
    incident_service.delay = 0.5
    async with make_client(incident_actions_worker_enabled=False) as client:
        key = await integration_key(client)
        await client.post("/v2/enqueue", json=trigger(key, "k2"))
        await client.post("/v2/enqueue", json=action(key, "acknowledge", "k2"))
        owed = "SELECT array_agg(action || ':' || status ORDER BY seq) FROM alert_incident_actions"
        assert await wait_for(lambda: db.scalar(owed) == ["create:done", "acknowledge:done"], within=5)
    assert [(method, body.get("status")) for method, _, body in incident_service.sent()] == [
        ("POST", None),
        ("PATCH", "acknowledged"),
    ]
    incident = await opened_incident_of(db, "k2")
    assert (incident.origin, incident.status) == ("api", "acknowledged")


async def test_repeated_trigger_is_deduplicated_and_counted(client, db, integration_key):
    key = await integration_key(client)
    for _ in range(3):
        assert (await client.post("/v2/enqueue", json=trigger(key, "flappy"))).status_code == 202

    assert db.scalar("SELECT count(DISTINCT incident_id) FROM alerts WHERE dedup_key = 'flappy'") == 1
    assert (await opened_incident_of(db, "flappy")).alert_count == 3
    assert len(await db.all_incidents_opened()) == 1


async def test_incident_resolves_only_when_every_alert_is_resolved(client, db, integration_key, wait_for):
    key = await integration_key(client)
    await client.post("/v2/enqueue", json=trigger(key, "a"))
    await client.post("/v2/enqueue", json=trigger(key, "b", summary="Replication lag on db-2"))
    # Correlated: same service and severity.
    assert (await opened_incident_of(db, "a")).id == (await opened_incident_of(db, "b")).id

    await client.post("/v2/enqueue", json=action(key, "resolve", "a"))
    await wait_for(lambda: False, within=0.5)
    assert incident_of(db, "a").status == "open"
    assert db.scalar("SELECT count(*) FROM alert_incident_actions WHERE action = 'resolve'") == 0

    await client.post("/v2/enqueue", json=action(key, "resolve", "b"))
    assert await wait_for(lambda: incident_of(db, "a").status == "resolved")


async def test_auto_resolve_can_be_switched_off(make_client, db, integration_key, wait_for):
    async with make_client(auto_resolve_incidents=False) as client:
        key = await integration_key(client)
        await client.post("/v2/enqueue", json=trigger(key, "manual"))
        await client.post("/v2/enqueue", json=action(key, "resolve", "manual"))
        await wait_for(lambda: False, within=0.5)
    assert db.scalar("SELECT status FROM alerts WHERE dedup_key = 'manual'") == "resolved"
    assert (await opened_incident_of(db, "manual")).status == "open"
    assert db.scalar("SELECT count(*) FROM alert_incident_actions WHERE action = 'resolve'") == 0


async def test_trigger_after_resolve_opens_a_new_incident(client, db, integration_key, wait_for):
    key = await integration_key(client)
    first = (await client.post("/v2/enqueue", json=trigger(key, "again"))).json()
    await client.post("/v2/enqueue", json=action(key, "resolve", "again"))
    await client.post("/v2/enqueue", json=trigger(key, "again"))

    incidents = db.rows("SELECT DISTINCT incident_id FROM alerts WHERE dedup_key = 'again'")
    assert first["dedup_key"] == "again"
    assert len(incidents) == 2
    opened = await db.all_incidents_opened()
    assert {i.id for i in opened} == {row.incident_id for row in incidents}
    assert sorted(i.alert_count for i in opened) == [1, 1]


async def test_dedup_key_matches_only_within_its_routing_key(client, db, integration_key):
    one = await integration_key(client, service="web")
    two = await integration_key(client, service="web")
    await client.post("/v2/enqueue", json=trigger(one, "shared-key"))
    await client.post("/v2/enqueue", json=trigger(two, "shared-key", severity="critical"))

    assert db.scalar("SELECT count(DISTINCT incident_id) FROM alerts WHERE dedup_key = 'shared-key'") == 2
    # Resolving through one key leaves the other's alert alone.
    await client.post("/v2/enqueue", json=action(one, "resolve", "shared-key"))
    statuses = sorted(r.status for r in db.rows("SELECT status FROM alerts WHERE dedup_key = 'shared-key'"))
    assert statuses == ["resolved", "triggered"]


@pytest.mark.parametrize("event_action", ["acknowledge", "resolve"])
async def test_unknown_or_closed_key_is_accepted_and_dropped(client, db, integration_key, event_action):
    key = await integration_key(client)
    response = await client.post("/v2/enqueue", json=action(key, event_action, "never-seen"))
    assert response.status_code == 202
    assert response.json()["status"] == "success"
    assert db.scalar("SELECT count(*) FROM alerts") == 0
    assert db.scalar("SELECT count(*) FROM alert_incident_actions") == 0


async def test_alertmanager_pagerduty_sender_shape_works_unchanged(client, db, integration_key):
    """What Alertmanager's pagerduty_configs sends: a 64-hex key, no timestamp, severity error."""
    key = await integration_key(client)
    group_key = "8c5d5e4b5c2f0a6a7b1d2e3f4a5b6c7d8e9f0a1b2c3d4e5f6a7b8c9d0e1f2a3b"
    event = {
        "routing_key": key,
        "dedup_key": group_key,
        "event_action": "trigger",
        "payload": {
            "summary": "[FIRING:1] HighLatency api (critical)",
            "source": "http://alertmanager:9093",
            "severity": "error",
            "custom_details": {"firing": "Labels:\n - alertname = HighLatency", "num_firing": "1", "num_resolved": "0"},
        },
        "client": "Alertmanager",
        "client_url": "http://alertmanager:9093/#/alerts",
        "images": [],
        "links": [],
    }
    response = await client.post("/v2/enqueue", json=event)
    assert response.status_code == 202
    assert response.json()["dedup_key"] == group_key
    assert (await opened_incident_of(db, group_key)).severity == "high"


@pytest.mark.parametrize(
    ("mutate", "error_fragment"),
    [
        (lambda e: e.pop("routing_key"), "routing_key"),
        (lambda e: e.update(event_action="explode"), "event_action"),
        (lambda e: e["payload"].update(severity="urgent"), "payload.severity"),
        (lambda e: e["payload"].update(summary="   "), "payload.summary"),
        (lambda e: e["payload"].pop("source"), "payload.source"),
        (lambda e: e.pop("payload"), "payload is required"),
        (lambda e: e.update(dedup_key="x" * 256), "dedup_key"),
        (lambda e: e["payload"].update(timestamp="yesterday"), "payload.timestamp"),
        (lambda e: e.update(payload="text"), "payload"),
        (lambda e: e.update(event_action="resolve", payload=None), "dedup_key is required"),
    ],
)
async def test_invalid_events_get_pagerdutys_400_and_store_nothing(client, db, integration_key, mutate, error_fragment):
    key = await integration_key(client)
    event = trigger(key)
    mutate(event)
    response = await client.post("/v2/enqueue", json=event)

    assert response.status_code == 400
    body = response.json()
    assert body["status"] == "invalid event"
    assert body["message"] == "Event object is invalid"
    assert any(error_fragment in error for error in body["errors"]), body
    assert db.scalar("SELECT count(*) FROM alerts") == 0
    assert db.scalar("SELECT count(*) FROM incidents") == 0


async def test_malformed_json_unknown_key_and_oversize(client, db, integration_key):
    key = await integration_key(client)
    malformed = await client.post(
        "/v2/enqueue", content=b'{"routing_key": ', headers={"content-type": "application/json"}
    )
    assert malformed.status_code == 400
    assert malformed.json()["status"] == "invalid event"

    not_object = await client.post("/v2/enqueue", json=[1, 2])
    assert not_object.status_code == 400

    unknown = await client.post("/v2/enqueue", json=trigger(uuid.uuid4().hex))
    assert unknown.status_code == 400
    assert "routing_key" in unknown.json()["errors"][0]

    oversize = await client.post("/v2/enqueue", json=trigger(key, custom_details={"blob": "x" * 600_000}))
    assert oversize.status_code == 413
    assert oversize.json()["status"] == "invalid event"

    # Summaries longer than PagerDuty's 1024 characters are cut, not refused.
    long = await client.post("/v2/enqueue", json=trigger(key, "long", summary="s" * 2000))
    assert long.status_code == 202
    assert len(db.scalar("SELECT message FROM alerts WHERE dedup_key = 'long'")) == 1024
    assert db.scalar("SELECT count(*) FROM alerts") == 1


async def test_revoked_key_is_refused(client, db, integration_key):
    key = await integration_key(client)
    integration = (await client.get("/api/v1/integrations")).json()["items"][0]
    assert (await client.delete(f"/api/v1/integrations/{integration['id']}")).status_code == 204
    response = await client.post("/v2/enqueue", json=trigger(key))
    assert response.status_code == 400
    assert response.json()["status"] == "invalid event"
    assert db.scalar("SELECT count(*) FROM alerts") == 0
