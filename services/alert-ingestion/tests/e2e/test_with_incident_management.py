"""With the real incident-management (oncall and notification left down: the
incidents stay unassigned, which it records and retries)."""

import asyncio
import time
import uuid

import httpx
import pytest

from platform_testing import PLATFORM_HEADERS, ServiceProcess, as_service, free_port

pytestmark = pytest.mark.e2e
# What opening an incident writes on its timeline; the engine may add that oncall-service,
# out of reach in these tests, could not assign it.
OPENING = ("alert_attached", "created")


@pytest.fixture
def services(clean_database):
    nowhere = f"http://127.0.0.1:{free_port()}"
    common = {"ENVIRONMENT": "test", "READINESS_INTERVAL_SECONDS": "60"}
    incidents = ServiceProcess(
        "incident_management",
        common
        | {
            "DATABASE_URL": as_service(clean_database, "incident_management"),
            "ONCALL_SERVICE_URL": nowhere,
            "NOTIFICATION_SERVICE_URL": nowhere,
            "INCIDENT_WORKER_INTERVAL_SECONDS": "0.5",
        },
    )
    incidents.start()
    ingestion = ServiceProcess(
        "alert_ingestion",
        common
        | {
            "DATABASE_URL": as_service(clean_database, "alert_ingestion"),
            "INCIDENT_SERVICE_URL": incidents.url,
            "INCIDENT_ACTIONS_INTERVAL_SECONDS": "0.5",
        },
    )
    ingestion.start()
    try:
        yield ingestion, incidents
    finally:
        ingestion.stop()
        incidents.stop()


async def eventually(check, within: float = 15.0):
    deadline = time.monotonic() + within
    while True:
        result = await check()
        if result or time.monotonic() > deadline:
            return result
        await asyncio.sleep(0.2)


async def test_trigger_acknowledge_resolve_and_fallback_with_the_real_service(services, db):
    ingestion, incidents = services
    async with httpx.AsyncClient(headers=PLATFORM_HEADERS, timeout=10) as http:
        key = (
            await http.post(
                f"{ingestion.url}/api/v1/integrations", json={"name": "pd", "service": "checkout", "type": "pagerduty"}
            )
        ).json()["key"]

        def event(action: str, dedup_key: str, severity: str = "critical") -> dict:
            body = {"routing_key": key, "event_action": action, "dedup_key": dedup_key}
            if action == "trigger":
                body["payload"] = {"summary": "Checkout 5xx", "source": "lb-1", "severity": severity}
            return body

        for _ in range(2):
            assert (await http.post(f"{ingestion.url}/v2/enqueue", json=event("trigger", "co-5xx"))).status_code == 202
        alert = (await http.get(f"{ingestion.url}/api/v1/alerts", params={"limit": 1})).json()["items"][0]
        incident_url = f"{incidents.url}/api/v1/incidents/{alert['incident_id']}"

        async def opened(url: str):
            response = await http.get(url)
            return response.json() if response.status_code == 200 else None

        # Opened by incident-management just after the first 202.
        incident = await eventually(lambda: opened(incident_url))
        assert incident, "the incident was not opened"
        assert (incident["status"], incident["alert_count"], incident["service"]) == ("open", 2, "checkout")
        assert incident["origin"] == "api"
        # One alert, its repeat counted on it.
        assert [a["trigger_count"] for a in incident["alerts"]] == [2]
        # The repeat is counted but not on the timeline; the alert that opened it is.
        assert sorted(e["event_type"] for e in incident["timeline"] if e["event_type"] in OPENING) == sorted(OPENING)

        await http.post(f"{ingestion.url}/v2/enqueue", json=event("acknowledge", "co-5xx"))

        async def status_is(wanted: str):
            body = (await http.get(incident_url)).json()
            return body if body["status"] == wanted else None

        acknowledged = await eventually(lambda: status_is("acknowledged"))
        assert acknowledged and acknowledged["mtta_seconds"] is not None

        await http.post(f"{ingestion.url}/v2/enqueue", json=event("resolve", "co-5xx"))
        resolved = await eventually(lambda: status_is("resolved"))
        assert resolved and resolved["mttr_seconds"] is not None
        assert [a["status"] for a in resolved["alerts"]] == ["resolved"]

        # incident-management down: the next incident is opened by the fallback,
        # and is there, whole, when it comes back.
        incidents.stop()
        fallback = await http.post(f"{ingestion.url}/v2/enqueue", json=event("trigger", "co-db", severity="warning"))
        assert fallback.status_code == 202
        alert = (await http.get(f"{ingestion.url}/api/v1/alerts", params={"fingerprint": "co-db"})).json()["items"][0]
        assert alert["action"] == "created"  # the resolved incident took no more alerts

        async def fallen_back():
            create = "SELECT status FROM alert_incident_actions WHERE incident_id = :id AND action = 'create'"
            return db.scalar(create, id=uuid.UUID(alert["incident_id"])) == "done"

        assert await eventually(fallen_back)
        incidents.start()
        incident = await eventually(lambda: opened(f"{incidents.url}/api/v1/incidents/{alert['incident_id']}"))
        assert incident, "the fallback did not open the incident"
        assert (incident["status"], incident["alert_count"], incident["severity"]) == ("open", 1, "medium")
        assert incident["origin"] == "ingestion_fallback"
        entries = sorted((e["event_type"], e["actor"]) for e in incident["timeline"] if e["event_type"] in OPENING)
        assert entries == [("alert_attached", "alert-ingestion"), ("created", "integration pd")]
        # ...and incident-management changes it like any other.
        moved = await http.patch(
            f"{incidents.url}/api/v1/incidents/{alert['incident_id']}", json={"status": "acknowledged"}
        )
        assert moved.status_code == 200, moved.text
