"""With the real incident-management (oncall and notification left down: the
incidents stay unassigned, which it records and retries)."""

import asyncio
import time

import httpx
import pytest

from platform_common.testing import ServiceProcess, free_port

pytestmark = pytest.mark.e2e


@pytest.fixture
def services(clean_database):
    nowhere = f"http://127.0.0.1:{free_port()}"
    common = {"ENVIRONMENT": "test", "DATABASE_URL": clean_database, "READINESS_INTERVAL_SECONDS": "60"}
    incidents = ServiceProcess(
        "incident_management",
        common
        | {
            "ONCALL_SERVICE_URL": nowhere,
            "NOTIFICATION_SERVICE_URL": nowhere,
            "INCIDENT_WORKER_INTERVAL_SECONDS": "0.5",
        },
    )
    incidents.start()
    ingestion = ServiceProcess(
        "alert_ingestion",
        common | {"INCIDENT_SERVICE_URL": incidents.url, "INCIDENT_ACTIONS_INTERVAL_SECONDS": "0.5"},
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


async def test_trigger_acknowledge_resolve_and_fallback_with_the_real_service(services):
    ingestion, incidents = services
    async with httpx.AsyncClient(timeout=10) as http:
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
        incident = (await http.get(incident_url)).json()
        assert (incident["status"], incident["alert_count"], incident["service"]) == ("open", 2, "checkout")
        assert len(incident["alerts"]) == 2

        await http.post(f"{ingestion.url}/v2/enqueue", json=event("acknowledge", "co-5xx"))

        async def status_is(wanted: str):
            body = (await http.get(incident_url)).json()
            return body if body["status"] == wanted else None

        acknowledged = await eventually(lambda: status_is("acknowledged"))
        assert acknowledged and acknowledged["mtta_seconds"] is not None

        await http.post(f"{ingestion.url}/v2/enqueue", json=event("resolve", "co-5xx"))
        resolved = await eventually(lambda: status_is("resolved"))
        assert resolved and resolved["mttr_seconds"] is not None

        # incident-management down: the next incident is opened by the fallback,
        # and is there, whole, when it comes back.
        incidents.stop()
        fallback = await http.post(f"{ingestion.url}/v2/enqueue", json=event("trigger", "co-db", severity="warning"))
        assert fallback.status_code == 202
        alert = (await http.get(f"{ingestion.url}/api/v1/alerts", params={"fingerprint": "co-db"})).json()["items"][0]
        incidents.start()
        incident = (await http.get(f"{incidents.url}/api/v1/incidents/{alert['incident_id']}")).json()
        assert (incident["status"], incident["alert_count"], incident["severity"]) == ("open", 1, "medium")
        assert [e["event_type"] for e in incident["timeline"]][:2] == ["created", "alert_attached"]
