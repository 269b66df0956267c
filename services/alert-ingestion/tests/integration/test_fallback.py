"""incident-management down or slow: alerts still become incidents (in the shared
database, flagged for assignment), and owed acknowledge/resolve calls wait and
are sent once it is back."""

import asyncio
import uuid

import httpx
import pytest

ALERT = {"service": "checkout", "severity": "critical", "message": "Checkout down"}


def assert_fallback_incident(db, incident_id: str) -> None:
    incident = db.rows("SELECT * FROM incidents WHERE id = :id", id=uuid.UUID(incident_id))[0]
    assert incident.origin == "ingestion_fallback"
    assert incident.needs_assignment is True or incident.needs_assignment == 1
    assert (incident.status, incident.alert_count, incident.title) == ("open", 1, "Checkout down")
    events = db.rows(
        "SELECT event_type, actor FROM incident_timeline WHERE incident_id = :id ORDER BY id", id=uuid.UUID(incident_id)
    )
    assert [(e.event_type, e.actor) for e in events] == [
        ("created", "alert-ingestion"),
        ("alert_attached", "alert-ingestion"),
    ]


async def test_stopped_incident_management_falls_back_to_the_database(client, db, incident_service):
    incident_service.stop()
    response = await client.post("/api/v1/alerts", json=ALERT)

    assert response.status_code == 202
    assert response.json()["action"] == "created"
    assert_fallback_incident(db, response.json()["incident_id"])
    # Later alerts join the fallback incident like any other.
    again = (await client.post("/api/v1/alerts", json=ALERT | {"message": "Checkout still down"})).json()
    assert again["action"] == "correlated"
    assert again["incident_id"] == response.json()["incident_id"]
    metrics = (await client.get("/metrics")).text
    assert "alert_incident_fallbacks_total 1.0" in metrics


@pytest.mark.parametrize("mode", ["error", "slow"])
async def test_failing_or_slow_incident_management_falls_back(make_client, db, incident_service, mode):
    incident_service.mode = mode
    incident_service.delay = 1.5
    async with make_client(incident_create_timeout_seconds=0.3, incident_create_retries=0) as client:
        response = await client.post("/api/v1/alerts", json=ALERT)
    assert response.status_code == 202
    assert_fallback_incident(db, response.json()["incident_id"])
    if mode == "slow":
        # The late create lands after the fallback: incident-management finds the id taken.
        await asyncio.sleep(incident_service.delay)
        assert db.scalar("SELECT count(*) FROM incidents") == 1


async def test_resolve_while_incident_management_is_down_is_sent_when_it_returns(
    client, db, incident_service, integration_key, wait_for
):
    key = await integration_key(client)
    trigger = {
        "routing_key": key,
        "event_action": "trigger",
        "dedup_key": "outage",
        "payload": {"summary": "Checkout down", "source": "probe", "severity": "critical"},
    }
    await client.post("/v2/enqueue", json=trigger)
    incident_service.mode = "error"

    response = await client.post(
        "/v2/enqueue", json={"routing_key": key, "event_action": "resolve", "dedup_key": "outage"}
    )

    # The alert state is stored regardless; the incident change is owed.
    assert response.status_code == 202
    assert db.scalar("SELECT status FROM alerts") == "resolved"
    assert await wait_for(lambda: db.scalar("SELECT attempts FROM alert_incident_actions") >= 1)
    assert db.scalar("SELECT status FROM alert_incident_actions") == "pending"
    assert db.scalar("SELECT i.status FROM incidents i JOIN alerts a ON a.incident_id = i.id") == "open"

    incident_service.mode = "up"
    # The retry loop delivers it (backoff 2 s, 4 s, ... after each failed try).
    assert await wait_for(
        lambda: db.scalar("SELECT i.status FROM incidents i JOIN alerts a ON a.incident_id = i.id") == "resolved",
        within=20,
    )
    # Recorded in a transaction of its own just after the call succeeds.
    assert await wait_for(lambda: db.scalar("SELECT status FROM alert_incident_actions") == "done")


async def test_acknowledge_of_incident_a_responder_already_moved_changes_only_the_alert(
    client, db, incident_service, integration_key
):
    key = await integration_key(client)
    trigger = {
        "routing_key": key,
        "event_action": "trigger",
        "dedup_key": "k",
        "payload": {"summary": "x", "source": "y", "severity": "info"},
    }
    await client.post("/v2/enqueue", json=trigger)
    incident_id = (await client.get("/api/v1/alerts")).json()["items"][0]["incident_id"]
    async with httpx.AsyncClient() as http:
        moved = await http.patch(
            f"{incident_service.url}/api/v1/incidents/{incident_id}", json={"status": "in_progress"}
        )
    assert moved.status_code == 200

    ack = await client.post("/v2/enqueue", json={"routing_key": key, "event_action": "acknowledge", "dedup_key": "k"})

    assert ack.status_code == 202
    assert db.scalar("SELECT status FROM alerts") == "acknowledged"
    assert db.scalar("SELECT count(*) FROM alert_incident_actions") == 0
    assert db.scalar("SELECT status FROM incidents") == "in_progress"
