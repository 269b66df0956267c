"""POST /api/v1/alerts: create, deduplicate, correlate within the window, read back."""

import asyncio
import uuid
from datetime import UTC, datetime, timedelta

import httpx

from platform_common.clock import ManualClock
from platform_testing import PLATFORM_HEADERS

ALERT = {"service": "checkout", "severity": "high", "message": "Payment API error rate 12% above threshold"}


OWED = "SELECT array_agg(action || ':' || status ORDER BY seq) FROM alert_incident_actions"


async def test_first_alert_opens_an_incident_through_incident_management(client, db, incident_service, wait_for):
    response = await client.post("/api/v1/alerts", json=ALERT | {"source": "prometheus", "labels": {"pod": "a"}})

    assert response.status_code == 202
    body = response.json()
    assert body["action"] == "created"
    assert len(body["fingerprint"]) == 64
    # The 202 names the incident at once; incident-management opens it just after.
    incident = await incident_service.incident_eventually(body["incident_id"])
    assert (incident["service"], incident["severity"], incident["status"], incident["alert_count"]) == (
        "checkout",
        "high",
        "open",
        1,
    )
    assert incident["origin"] == "api"  # made by incident-management, not the fallback
    assert incident["title"] == ALERT["message"]
    assert [a["id"] for a in incident["alerts"]] == [body["alert_id"]]
    assert [(c[0], c[1]) for c in incident_service.sent()] == [("POST", "/api/v1/incidents/batch")]
    assert [item["id"] for item in incident_service.sent()[0][2]["items"]] == [body["incident_id"]]
    # The owed create is recorded done (in a transaction of its own, just after the call).
    assert await wait_for(lambda: db.scalar(OWED) == ["create:done"])
    # The timeline holds incident-management's own entry and the alert that
    # opened the incident (read from ingestion's alerts, so without an id).
    # Sorted: entries are in time order, and the alert arrived before the incident opened.
    entries = [(e["event_type"], e["actor"], e["id"] is None) for e in incident["timeline"]]
    # The incident's opening is recorded under the integration the alert came through.
    assert sorted(entries) == [
        ("alert_attached", "alert-ingestion", True),
        ("created", "integration checkout test sender", False),
    ]


async def test_repeat_of_same_alert_is_deduplicated_and_counted(client, db, incident_service):
    first = (await client.post("/api/v1/alerts", json=ALERT)).json()
    # The same problem with another number: the normalised message matches.
    second = (
        await client.post("/api/v1/alerts", json=ALERT | {"message": "Payment API error rate 15% above threshold"})
    ).json()

    assert second["action"] == "deduplicated"
    assert second["incident_id"] == first["incident_id"]
    assert second["fingerprint"] == first["fingerprint"]
    incident_id = uuid.UUID(first["incident_id"])
    # One alert row that counts its repeats, and the answer names it.
    assert second["alert_id"] == first["alert_id"]
    assert [tuple(r) for r in db.rows("SELECT action, trigger_count FROM alerts")] == [("created", 2)]
    # Counted by incident-management, but repeats stay off the timeline, which people read.
    incident = await incident_service.incident_eventually(incident_id)
    assert incident["alert_count"] == 2
    assert [e["event_type"] for e in incident["timeline"]].count("alert_attached") == 1


async def test_explicit_dedup_key_is_the_fingerprint(client):
    first = (await client.post("/api/v1/alerts", json=ALERT | {"dedup_key": "db-primary-down"})).json()
    second = (
        await client.post("/api/v1/alerts", json=ALERT | {"dedup_key": "db-primary-down", "message": "other"})
    ).json()
    assert first["fingerprint"] == "db-primary-down"
    assert second["action"] == "deduplicated"


async def test_other_alert_of_same_service_and_severity_correlates_within_window(make_client, db):
    clock = ManualClock(datetime.now(UTC))
    async with make_client(clock=clock) as client:
        first = (await client.post("/api/v1/alerts", json=ALERT)).json()
        clock.advance(timedelta(minutes=4))
        other = (await client.post("/api/v1/alerts", json=ALERT | {"message": "Checkout latency p99 over 2s"})).json()
        different_severity = (
            await client.post("/api/v1/alerts", json=ALERT | {"severity": "low", "message": "x"})
        ).json()

    assert other["action"] == "correlated"
    assert other["incident_id"] == first["incident_id"]
    assert different_severity["action"] == "created"
    assert different_severity["incident_id"] != first["incident_id"]
    assert (await db.incident_eventually(first["incident_id"])).alert_count == 2
    assert (await db.incident_eventually(different_severity["incident_id"])).alert_count == 1
    assert len(await db.all_incidents_opened()) == 2


async def test_alert_after_the_window_opens_a_new_incident(make_client, db):
    clock = ManualClock(datetime.now(UTC) - timedelta(minutes=10))
    async with make_client(clock=clock, correlation_window_minutes=5) as client:
        first = (await client.post("/api/v1/alerts", json=ALERT)).json()
        # The window counts from the opening alert's arrival (ingestion's clock);
        # move it well past the window.
        clock.set(datetime.now(UTC) + timedelta(minutes=6))
        later = (await client.post("/api/v1/alerts", json=ALERT | {"message": "Checkout latency p99 over 2s"})).json()
        repeat = (await client.post("/api/v1/alerts", json=ALERT)).json()

    assert later["action"] == "created"
    assert later["incident_id"] != first["incident_id"]
    # A repeat of an unresolved alert still deduplicates, whatever its age.
    assert repeat["action"] == "deduplicated"
    assert repeat["incident_id"] == first["incident_id"]
    incidents = await db.all_incidents_opened()
    assert sorted((str(i.id), i.alert_count) for i in incidents) == sorted(
        [(first["incident_id"], 2), (later["incident_id"], 1)]
    )


async def test_list_and_read_alerts_with_filters(client):
    created = (await client.post("/api/v1/alerts", json=ALERT)).json()
    await client.post("/api/v1/alerts", json=ALERT | {"service": "search", "message": "Index lag"})
    await client.post("/api/v1/alerts", json=ALERT)

    await client.post("/api/v1/alerts", json=ALERT | {"message": "Checkout latency p99 over 2s"})

    page = (await client.get("/api/v1/alerts", params={"service": "checkout", "limit": 1})).json()
    assert page["total"] == 2
    assert len(page["items"]) == 1
    assert page["limit"] == 1
    assert page["offset"] == 0
    by_incident = (await client.get("/api/v1/alerts", params={"incident_id": created["incident_id"]})).json()
    assert by_incident["total"] == 2
    since = (datetime.now(UTC) + timedelta(minutes=1)).isoformat()
    assert (await client.get("/api/v1/alerts", params={"since": since})).json()["total"] == 0

    one = await client.get(f"/api/v1/alerts/{created['alert_id']}")
    assert one.status_code == 200
    assert one.json()["message"] == ALERT["message"]
    assert one.json()["format"] == "generic"
    assert one.json()["action"] == "created"
    # The repeat counted on it; the correlated alert says why it joined.
    assert (one.json()["trigger_count"], one.json()["reason"]) == (2, "first alert")
    joined = [a for a in by_incident["items"] if a["action"] == "correlated"]
    assert joined[0]["reason"] == f'same service and severity within 5 min of "{ALERT["message"]}"'
    assert joined[0]["reason_alert_id"] == created["alert_id"]
    assert (await client.get(f"/api/v1/alerts/{uuid.uuid4()}")).status_code == 404
    assert (await client.get("/api/v1/alerts", params={"severity": "urgent"})).status_code == 422
    assert (await client.get("/api/v1/alerts", params={"limit": 0})).status_code == 422


async def test_metrics_count_alerts(client):
    await client.post("/api/v1/alerts", json=ALERT)
    await client.post("/api/v1/alerts", json=ALERT)
    text = (await client.get("/metrics")).text
    assert 'alerts_received_total{severity="high",source="generic"}' in text
    assert 'alerts_correlated_total{result="deduplicated"}' in text
    assert "alert_processing_seconds_bucket" in text


async def test_concurrent_first_alerts_open_one_incident(client, db):
    """A burst of first alerts for one service and severity: one incident, opened once."""
    burst = [client.post("/api/v1/alerts", json=ALERT | {"message": f"symptom {chr(97 + i)}"}) for i in range(20)]
    responses = await asyncio.gather(*burst)
    assert {r.status_code for r in responses} == {202}
    assert [r.json()["action"] for r in responses].count("created") == 1
    assert len({r.json()["incident_id"] for r in responses}) == 1
    incidents = await db.all_incidents_opened()
    assert [(str(i.id), i.alert_count) for i in incidents] == [(responses[0].json()["incident_id"], 20)]


async def test_an_alert_joining_an_acknowledged_incident_is_reported_and_the_timeline_says_so(
    client, db, incident_service, wait_for
):
    first = (await client.post("/api/v1/alerts", json=ALERT)).json()
    await incident_service.incident_eventually(first["incident_id"])
    assert await wait_for(lambda: db.scalar(OWED) == ["create:done"])
    async with httpx.AsyncClient(base_url=incident_service.url, headers=PLATFORM_HEADERS) as http:
        acked = await http.patch(f"/api/v1/incidents/{first['incident_id']}", json={"status": "acknowledged"})
    assert acked.status_code == 200, acked.text

    joined = (await client.post("/api/v1/alerts", json=ALERT | {"message": "Checkout latency p99 over 2s"})).json()
    assert (joined["action"], joined["incident_id"]) == ("correlated", first["incident_id"])
    assert await wait_for(lambda: db.scalar(OWED) == ["create:done", "alert_joined:done"])
    incident = await incident_service.incident(first["incident_id"])
    [entry] = [e for e in incident["timeline"] if e["event_type"] == "alert_joined"]
    assert entry["message"].startswith('New alert "Checkout latency p99 over 2s" joined while acknowledged:')
    assert "same service and severity within 5 min of" in entry["message"]
    [alert] = [a for a in incident["alerts"] if a["id"] == joined["alert_id"]]
    assert alert["reason"].endswith("(joined while the incident was acknowledged)")
