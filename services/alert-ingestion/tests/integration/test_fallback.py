"""incident-management down, failing or slow: alerts still become incidents,
opened by ingestion through open_incident() (incident-management's own
function: origin 'ingestion_fallback', waiting for assignment), which the real
incident-management then serves and changes like any other; owed
acknowledge/resolve calls wait and are sent once it is back."""

import asyncio
import time
import uuid

import httpx
import pytest

from platform_testing import PLATFORM_HEADERS, user_with_token

ALERT = {"service": "checkout", "severity": "critical", "message": "Checkout down"}
OWED = "SELECT array_agg(action || ':' || status ORDER BY seq) FROM alert_incident_actions"


async def assert_fallback_incident(db, wait_for, incident_id: str, alerts: int = 1) -> None:
    incident = await db.incident_eventually(incident_id)
    assert incident.origin == "ingestion_fallback"
    assert incident.needs_assignment is True
    assert (incident.status, incident.alert_count, incident.title) == ("open", alerts, "Checkout down")
    # The incident's own timeline: opened by alert-ingestion (the alerts are read from ingestion's table).
    events = db.rows(
        "SELECT event_type, actor, data FROM incident_timeline WHERE incident_id = :id ORDER BY id",
        id=uuid.UUID(incident_id),
    )
    # Recorded under the integration the alert came with, as incident-management names it.
    assert [(e.event_type, e.actor) for e in events] == [("created", "integration checkout test sender")]
    assert events[0].data["origin"] == "ingestion_fallback"
    # The owed create is settled (recorded just after the incident is opened): the fallback did it.
    owed = "SELECT status, last_error FROM alert_incident_actions WHERE action = 'create'"
    assert await wait_for(lambda: [r.status for r in db.rows(owed)] == ["done"])
    assert "fallback" in db.rows(owed)[0].last_error


async def assert_served_by_incident_management(incident_service, incident_id: str, alerts: int) -> None:
    """Back up, the real incident-management shows the fallback incident whole and can change it."""
    incident = await incident_service.incident(incident_id)
    assert (incident["origin"], incident["status"], incident["alert_count"]) == ("ingestion_fallback", "open", alerts)
    entries = [(e["event_type"], e["actor"]) for e in incident["timeline"]]
    expected = [("created", "integration checkout test sender")] + [("alert_attached", "alert-ingestion")] * alerts
    assert sorted(entries) == sorted(expected)
    _, ana = user_with_token(incident_service.database_url, "ana")
    async with httpx.AsyncClient(headers=ana) as http:
        moved = await http.patch(
            f"{incident_service.url}/api/v1/incidents/{incident_id}", json={"status": "acknowledged"}
        )
    assert moved.status_code == 200, moved.text
    assert (moved.json()["status"], moved.json()["version"]) == ("acknowledged", 2)
    assert moved.json()["mtta_seconds"] is not None


def fallbacks(metrics: str) -> float:
    line = next(line for line in metrics.splitlines() if line.startswith("alert_incident_fallbacks_total "))
    return float(line.split()[-1])


async def test_stopped_incident_management_falls_back_to_the_database(client, db, incident_service, wait_for):
    before = fallbacks((await client.get("/metrics")).text)
    incident_service.stop()
    response = await client.post("/api/v1/alerts", json=ALERT)

    assert response.status_code == 202
    assert response.json()["action"] == "created"
    incident_id = response.json()["incident_id"]
    await assert_fallback_incident(db, wait_for, incident_id)
    # Later alerts join the fallback incident like any other.
    again = (await client.post("/api/v1/alerts", json=ALERT | {"message": "Checkout still down"})).json()
    assert again["action"] == "correlated"
    assert again["incident_id"] == incident_id
    assert db.incident(incident_id).alert_count == 2
    assert db.scalar(OWED) == ["create:done"]  # a correlated alert owes nothing
    assert fallbacks((await client.get("/metrics")).text) == before + 1

    incident_service.start()
    await assert_served_by_incident_management(incident_service, incident_id, alerts=2)


@pytest.mark.parametrize("mode", ["error", "slow"])
async def test_failing_or_slow_incident_management_falls_back(make_client, db, incident_service, wait_for, mode):
    incident_service.mode = mode
    incident_service.delay = 1.5
    async with make_client(incident_create_timeout_seconds=0.3, incident_create_retries=0) as client:
        response = await client.post("/api/v1/alerts", json=ALERT)
        assert response.status_code == 202
        incident_id = response.json()["incident_id"]
        await assert_fallback_incident(db, wait_for, incident_id)
    # The create was tried once, with the reserved id.
    sent = [(c[0], c[1], [item["id"] for item in c[2]["items"]]) for c in incident_service.sent()]
    assert sent == [("POST", "/api/v1/incidents/batch", [incident_id])]
    if mode == "slow":
        # The late create lands after the fallback: incident-management finds the id taken (200 in its result).
        assert await wait_for(lambda: incident_service.answered, within=5)
        assert incident_service.answered == [("POST", "/api/v1/incidents/batch", 200)]
    assert [str(i.id) for i in db.incidents()] == [incident_id]
    assert (await db.incident_eventually(incident_id)).origin == "ingestion_fallback"

    incident_service.mode = "up"
    await assert_served_by_incident_management(incident_service, incident_id, alerts=1)


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
    incident_id = str(db.scalar("SELECT incident_id FROM alerts"))
    incident = await incident_service.incident_eventually(incident_id)
    assert incident["origin"] == "api"
    assert await wait_for(lambda: db.scalar(OWED) == ["create:done"])
    incident_service.mode = "error"

    response = await client.post(
        "/v2/enqueue", json={"routing_key": key, "event_action": "resolve", "dedup_key": "outage"}
    )

    # The alert state is stored regardless; the incident change is owed.
    assert response.status_code == 202
    assert db.scalar("SELECT status FROM alerts") == "resolved"
    resolve = "SELECT attempts FROM alert_incident_actions WHERE action = 'resolve'"
    assert await wait_for(lambda: db.scalar(resolve) >= 1)
    assert db.scalar(OWED) == ["create:done", "resolve:pending"]
    assert db.incident(incident_id).status == "open"

    incident_service.mode = "up"
    # The retry loop delivers it (backoff 2 s, 4 s, ... after each failed try).
    assert await wait_for(lambda: db.incident(incident_id).status == "resolved", within=20)
    # Recorded in a transaction of its own just after the call succeeds.
    assert await wait_for(lambda: db.scalar(OWED) == ["create:done", "resolve:done"])
    patches = [status for method, _, status in incident_service.answered if method == "PATCH"]
    assert patches[:-1] == [503] * (len(patches) - 1) and patches[-1] == 200
    # One call per try: the queue retries, the call inside a try does not.
    assert db.scalar(resolve) == len(patches)
    assert (await incident_service.incident(incident_id))["status"] == "resolved"


async def test_acknowledge_of_incident_a_responder_already_moved_changes_only_the_alert(
    client, db, incident_service, integration_key, wait_for
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
    await incident_service.incident_eventually(incident_id)
    assert await wait_for(lambda: db.scalar(OWED) == ["create:done"])
    async with httpx.AsyncClient(headers=PLATFORM_HEADERS) as http:
        for status in ("acknowledged", "in_progress"):
            moved = await http.patch(f"{incident_service.url}/api/v1/incidents/{incident_id}", json={"status": status})
            assert moved.status_code == 200, moved.text

    ack = await client.post("/v2/enqueue", json={"routing_key": key, "event_action": "acknowledge", "dedup_key": "k"})

    assert ack.status_code == 202
    assert db.scalar("SELECT status FROM alerts") == "acknowledged"
    assert db.scalar(OWED) == ["create:done"]  # nothing owed: the incident is past acknowledged
    assert db.incident(incident_id).status == "in_progress"
    # The create, and the responder's two moves: ingestion sent nothing more.
    assert [c[0] for c in incident_service.sent()] == ["POST", "PATCH", "PATCH"]


async def test_a_slow_incident_management_delays_each_new_incident_by_one_timeout_not_by_all_of_them(
    make_client, db, incident_service, wait_for
):
    """An outage touching many services at once: each new incident is opened by
    the fallback one create timeout after its alert, not after the timeouts of
    all the incidents before it."""
    incident_service.mode = "slow"
    incident_service.delay = 3.0  # longer than the wait below: the fallback opens them all
    services = [f"svc-{n}" for n in range(8)]
    async with make_client(incident_create_timeout_seconds=0.5, incident_create_retries=0) as client:
        responses = await asyncio.gather(
            *(client.post("/api/v1/alerts", json=ALERT | {"service": service}) for service in services)
        )
        accepted = time.monotonic()
        assert [r.json()["action"] for r in responses] == ["created"] * len(services)
        # One after another this would take 8 x 0.5 s; side by side, about one timeout.
        assert await wait_for(lambda: len(db.incidents()) == len(services), within=2.5), (
            f"{len(db.incidents())} of {len(services)} incidents opened after {time.monotonic() - accepted:.1f} s"
        )
    opened = db.incidents()
    assert sorted(i.service for i in opened) == services
    assert {i.origin for i in opened} == {"ingestion_fallback"}
    assert {i.alert_count for i in opened} == {1}
