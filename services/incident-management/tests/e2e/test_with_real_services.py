"""The real processes together: oncall-service, notification-service and
incident-management on their own ports over one database, with a webhook
receiver standing in for the responders' phones. incident-management runs its
clock 60x faster so a policy of one-minute levels escalates in seconds.

And the wake-up: an incident opened elsewhere (another replica, alert-ingestion's
fallback) is assigned at once by a replica that polls only every minute, which
only PostgreSQL's NOTIFY (open_incident()) and its LISTEN can explain."""

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from platform_testing import PLATFORM_HEADERS, ServiceProcess, as_service, free_port, wait_for

from ..conftest import Phones

pytestmark = pytest.mark.e2e


def seed_oncall(oncall_url: str, phones: Phones, *, repeat_count: int = 0) -> dict[str, str]:
    """Alice then Bob, one minute each (the policy walked `repeat_count` more times),
    for the service `payments`; pages go to their webhooks."""
    api = httpx.Client(headers=PLATFORM_HEADERS, base_url=oncall_url, timeout=5)
    users = {}
    for name in ("alice", "bob"):
        created = api.post(
            "/api/v1/users",
            json={
                "name": name.title(),
                "email": f"{name}@example.com",
                "contact_methods": [{"type": "webhook", "address": f"{phones.server.url}/hook/{name}"}],
            },
        )
        assert created.status_code == 201, created.text
        users[name] = created.json()["id"]
    policy = api.post(
        "/api/v1/escalation-policies",
        json={
            "name": "payments",
            "repeat_count": repeat_count,
            "levels": [
                {"delay_minutes": 1, "targets": [{"type": "user", "id": users["alice"]}]},
                {"delay_minutes": 1, "targets": [{"type": "user", "id": users["bob"]}]},
            ],
        },
    )
    assert policy.status_code == 201, policy.text
    service = api.post("/api/v1/services", json={"name": "payments", "escalation_policy_id": policy.json()["id"]})
    assert service.status_code == 201, service.text
    return users


@dataclass
class Platform:
    phones: Phones
    users: dict[str, str]
    oncall: ServiceProcess
    notifications: ServiceProcess
    incidents: ServiceProcess

    @property
    def client(self) -> httpx.Client:
        return httpx.Client(headers=PLATFORM_HEADERS, base_url=self.incidents.url, timeout=10)

    def events(self, incident_id: str) -> list[str]:
        detail = self.client.get(f"/api/v1/incidents/{incident_id}").json()
        return [e["event_type"] for e in detail["timeline"]]

    def all_sent(self) -> bool:
        """Nothing left to ring: no page waits in the outbox, and every delivery is final."""
        incidents = self.client.get("/api/v1/incidents").json()["items"]
        pages = [p for i in incidents for p in self.client.get(f"/api/v1/incidents/{i['id']}").json()["pages"]]
        deliveries = httpx.get(
            f"{self.notifications.url}/api/v1/notifications", params={"limit": 200}, headers=PLATFORM_HEADERS
        ).json()["items"]
        return all(p["status"] != "pending" for p in pages) and all(
            d["status"] in ("delivered", "failed", "suppressed") for d in deliveries
        )


@pytest.fixture
def repeat_count() -> int:
    """How many times the policy starts again after bob (a test parametrizes it to change it)."""
    return 0


@pytest.fixture
def platform(clean_database: str, repeat_count: int) -> Iterator[Platform]:
    phones = Phones()
    phones.server.start()
    base_env = {"ENVIRONMENT": "test", "LOG_LEVEL": "WARNING"}
    started: list[ServiceProcess] = []
    try:
        oncall = ServiceProcess(
            "oncall_service", {**base_env, "DATABASE_URL": as_service(clean_database, "oncall_service")}
        ).start()
        started.append(oncall)
        users = seed_oncall(oncall.url, phones, repeat_count=repeat_count)
        notifications = ServiceProcess(
            "notification_service",
            {
                **base_env,
                "DATABASE_URL": as_service(clean_database, "notification_service"),
                "ONCALL_SERVICE_URL": oncall.url,
                "NOTIFICATION_WEBHOOK_SECRET": "e2e-secret",
                "NOTIFICATION_POLL_SECONDS": "0.1",
            },
        ).start()
        started.append(notifications)
        incidents = ServiceProcess(
            "incident_management",
            {
                **base_env,
                "DATABASE_URL": as_service(clean_database, "incident_management"),
                "ONCALL_SERVICE_URL": oncall.url,
                "NOTIFICATION_SERVICE_URL": notifications.url,
                # A minute passes in a second; retries of outages are capped at 3 (fast) seconds.
                "INCIDENT_CLOCK_SPEED": "60",
                "INCIDENT_WORKER_INTERVAL_SECONDS": "0.2",
                "INCIDENT_RETRY_MAX_SECONDS": "20",
            },
        )
        # Where notification-service pushes delivery results: this process's own address.
        incidents.env["INCIDENT_SERVICE_URL"] = incidents.url
        incidents.start()
        started.append(incidents)
        yield Platform(phones, users, oncall, notifications, incidents)
    finally:
        for process in reversed(started):
            process.stop()
        phones.server.stop()


@pytest.mark.parametrize("repeat_count", [1])
def test_a_new_incident_is_assigned_paged_delivered_escalated_and_stopped_by_acknowledgement(platform):
    client, phones, users = platform.client, platform.phones, platform.users
    body = {"title": "Card payments failing", "service": "payments", "severity": "critical"}
    created = client.post("/api/v1/incidents", json=body)
    assert created.status_code == 201, created.text
    incident = created.json()
    # Answered at once; the engine, woken by the new incident, assigns and pages.
    wait_for(lambda: "alice" in phones.who())
    assigned = client.get(f"/api/v1/incidents/{incident['id']}").json()["assigned_to"]
    assert assigned == users["alice"]
    assert "Card payments failing" in str(phones.received[0][1])
    wait_for(lambda: "notified" in platform.events(incident["id"]))
    # One (accelerated) minute later nobody acknowledged: bob's phone rings.
    wait_for(lambda: "bob" in phones.who())
    acked = client.patch(f"/api/v1/incidents/{incident['id']}", json={"status": "acknowledged"})
    assert acked.status_code == 200
    assert acked.json()["next_escalation_at"] is None
    # Unacknowledged, the policy would ring alice again a minute after bob (its repeat). A second
    # incident opened now escalates to bob a minute later still: once that has rung, the engine has
    # passed the moment of the repeat (it takes due escalations oldest first), and once nothing is
    # left to send, no page of the first incident can still be on its way.
    client.post("/api/v1/incidents", json={**body, "title": "Later incident"}).raise_for_status()
    wait_for(lambda: "bob" in phones.who("Later incident"))
    wait_for(platform.all_sent)
    assert phones.who("Card payments failing") == ["alice", "bob"]
    # Both were paged, so both are told of the acknowledgement (by the platform), once.
    assert sorted(phones.who("Card payments failing", events=("acknowledged",))) == ["alice", "bob"]
    timeline = platform.events(incident["id"])
    for expected in ("created", "assigned", "paged", "notified", "escalated", "acknowledged"):
        assert expected in timeline, (expected, timeline)
    assert "incidents_open" in client.get("/metrics").text


def test_pages_wait_out_a_notification_service_outage_and_ring_once(platform):
    client, phones = platform.client, platform.phones
    platform.notifications.stop()
    body = {"title": "Queue backlog", "service": "payments", "severity": "high"}
    incident = client.post("/api/v1/incidents", json=body).json()
    wait_for(lambda: "page_failed" in platform.events(incident["id"]))
    client.patch(f"/api/v1/incidents/{incident['id']}", json={"note": "pager down?"})
    platform.notifications.start()
    wait_for(lambda: "alice" in phones.who())
    acked = client.patch(f"/api/v1/incidents/{incident['id']}", json={"status": "acknowledged"})
    assert acked.status_code == 200
    # Every page accepted and every delivery final: what has rung is all that will ring.
    wait_for(platform.all_sent)
    assert phones.who().count("alice") == 1
    detail = client.get(f"/api/v1/incidents/{incident['id']}").json()
    alice = platform.users["alice"]
    pages = [p for p in detail["pages"] if p["recipient"] == alice and not p["step_key"].startswith("notice-")]
    assert [p["status"] for p in pages] == ["sent"]
    paged_alice = [e for e in detail["timeline"] if e["event_type"] == "paged" and e["data"]["recipient"] == alice]
    assert len(paged_alice) == 1


# The engine's safety-net poll in the wake-up test: far longer than the test, so
# only a wake-up can explain an incident assigned within PICKED_UP_WITHIN.
POLL_SECONDS = 60
PICKED_UP_WITHIN = 10


def _cycles(process: ServiceProcess) -> int:
    """How many engine cycles the process has finished (its incident_worker_cycle_seconds histogram)."""
    metrics = httpx.get(f"{process.url}/metrics", timeout=5).text
    found = re.search(r"^incident_worker_cycle_seconds_count (\S+)$", metrics, re.MULTILINE)
    return int(float(found.group(1))) if found else 0


@pytest.fixture
def polling_slowly(clean_database: str) -> Iterator[dict[str, Any]]:
    """incident-management replica `engine` polling every POLL_SECONDS; replica
    `other` (engine off) and alert-ingestion (incident-management out of its
    reach, so it opens incidents through its fallback) open incidents beside it."""
    phones = Phones()
    nowhere = f"http://127.0.0.1:{free_port()}"
    base_env = {"DATABASE_URL": clean_database, "ENVIRONMENT": "test", "LOG_LEVEL": "WARNING"}
    incidents_env = {**base_env, "NOTIFICATION_SERVICE_URL": nowhere}
    started: list[ServiceProcess] = []
    try:
        oncall = ServiceProcess("oncall_service", base_env).start()
        started.append(oncall)
        users = seed_oncall(oncall.url, phones)
        incidents_env["ONCALL_SERVICE_URL"] = oncall.url
        other = ServiceProcess("incident_management", {**incidents_env, "INCIDENT_WORKER_ENABLED": "false"}).start()
        started.append(other)
        ingestion = ServiceProcess("alert_ingestion", {**base_env, "INCIDENT_SERVICE_URL": nowhere}).start()
        started.append(ingestion)
        engine = ServiceProcess(
            "incident_management", {**incidents_env, "INCIDENT_WORKER_INTERVAL_SECONDS": str(POLL_SECONDS)}
        ).start()
        started.append(engine)
        # Its first cycle runs at start, its second when LISTEN is up (the listener's catch-up
        # wake-up); after that only a NOTIFY, or the poll a minute later, starts another.
        wait_for(lambda: _cycles(engine) >= 2, timeout=PICKED_UP_WITHIN)
        yield {"engine": engine, "other": other, "ingestion": ingestion, "users": users}
    finally:
        for process in reversed(started):
            process.stop()


def test_an_incident_opened_by_another_replica_or_the_fallback_wakes_the_engine_at_once(polling_slowly):
    engine, other, ingestion = polling_slowly["engine"], polling_slowly["other"], polling_slowly["ingestion"]
    alice = polling_slowly["users"]["alice"]
    api = httpx.Client(headers=PLATFORM_HEADERS, timeout=10)

    def assigned(incident_id: str) -> bool:
        # A 404 until alert-ingestion has opened it (it answers the sender first).
        return api.get(f"{engine.url}/api/v1/incidents/{incident_id}").json().get("assigned_to") == alice

    # Opened through the other replica: its own engine is off, so only the NOTIFY reaches this one.
    body = {"title": "Card payments failing", "service": "payments", "severity": "critical"}
    created = api.post(f"{other.url}/api/v1/incidents", json=body)
    assert created.status_code == 201, created.text
    wait_for(lambda: assigned(created.json()["id"]), timeout=PICKED_UP_WITHIN)

    # Opened by alert-ingestion itself in the database (open_incident()), incident-management unreached.
    key = api.post(
        f"{ingestion.url}/api/v1/integrations", json={"name": "am", "service": "payments", "type": "generic"}
    ).json()["key"]
    alert = api.post(
        f"{ingestion.url}/api/v1/alerts",
        json={"severity": "critical", "message": "card payments failing again"},
        headers={"Authorization": f"Bearer {key}"},
    )
    assert alert.status_code == 202, alert.text
    opened = alert.json()["incident_id"]
    wait_for(lambda: assigned(opened), timeout=PICKED_UP_WITHIN)
    assert api.get(f"{engine.url}/api/v1/incidents/{opened}").json()["origin"] == "ingestion_fallback"
