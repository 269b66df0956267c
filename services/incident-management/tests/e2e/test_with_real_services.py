"""The real processes together: oncall-service, notification-service and
incident-management on their own ports over one database, with a webhook
receiver standing in for the responders' phones. incident-management runs its
clock 60x faster so a policy of one-minute levels escalates in seconds."""

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from fastapi import FastAPI, Request

from platform_testing import PLATFORM_HEADERS, ServiceProcess, as_service

from ..conftest import FakeServer

pytestmark = pytest.mark.e2e


class Phones:
    """Webhook receiver: one path per responder."""

    def __init__(self) -> None:
        self.received: list[tuple[str, dict[str, Any]]] = []
        app = FastAPI()

        @app.get("/health")
        async def health() -> dict[str, str]:
            return {"status": "ok"}

        @app.post("/hook/{who}")
        async def hook(who: str, request: Request) -> dict[str, str]:
            self.received.append((who, await request.json()))
            return {"ok": "yes"}

        self.server = FakeServer(app)

    def who(self) -> list[str]:
        return [who for who, _ in self.received]


def wait_until(check: Callable[[], Any], timeout: float = 20.0) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = check()
        if result:
            return result
        time.sleep(0.1)
    raise AssertionError("condition not met in time")


def seed_oncall(oncall_url: str, phones: Phones) -> dict[str, str]:
    """Alice then Bob, one minute each, for the service `payments`; pages go to their webhooks."""
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


@pytest.fixture
def platform(clean_database: str) -> Iterator[Platform]:
    phones = Phones()
    phones.server.start()
    base_env = {"ENVIRONMENT": "test", "LOG_LEVEL": "WARNING"}
    started: list[ServiceProcess] = []
    try:
        oncall = ServiceProcess(
            "oncall_service", {**base_env, "DATABASE_URL": as_service(clean_database, "oncall_service")}
        ).start()
        started.append(oncall)
        users = seed_oncall(oncall.url, phones)
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
                "HTTP_RETRIES": "0",
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


def test_a_new_incident_is_assigned_paged_delivered_escalated_and_stopped_by_acknowledgement(platform):
    client, phones, users = platform.client, platform.phones, platform.users
    body = {"title": "Card payments failing", "service": "payments", "severity": "critical"}
    created = client.post("/api/v1/incidents", json=body)
    assert created.status_code == 201, created.text
    incident = created.json()
    # Answered at once; the engine, woken by the new incident, assigns and pages.
    wait_until(lambda: "alice" in phones.who())
    assigned = client.get(f"/api/v1/incidents/{incident['id']}").json()["assigned_to"]
    assert assigned == users["alice"]
    assert "Card payments failing" in str(phones.received[0][1])
    wait_until(lambda: "notified" in platform.events(incident["id"]))
    # One (accelerated) minute later nobody acknowledged: bob's phone rings.
    wait_until(lambda: "bob" in phones.who())
    acked = client.patch(f"/api/v1/incidents/{incident['id']}", json={"status": "acknowledged"})
    assert acked.status_code == 200
    assert acked.json()["next_escalation_at"] is None
    time.sleep(2)  # two more accelerated minutes: nothing else may ring
    assert sorted(phones.who()) == ["alice", "bob"]
    timeline = platform.events(incident["id"])
    for expected in ("created", "assigned", "paged", "notified", "escalated", "acknowledged"):
        assert expected in timeline, (expected, timeline)
    assert "incidents_open" in client.get("/metrics").text


def test_pages_wait_out_a_notification_service_outage_and_ring_once(platform):
    client, phones = platform.client, platform.phones
    platform.notifications.stop()
    body = {"title": "Queue backlog", "service": "payments", "severity": "high"}
    incident = client.post("/api/v1/incidents", json=body).json()
    wait_until(lambda: "page_failed" in platform.events(incident["id"]))
    client.patch(f"/api/v1/incidents/{incident['id']}", json={"note": "pager down?"})
    platform.notifications.start()
    wait_until(lambda: "alice" in phones.who())
    acked = client.patch(f"/api/v1/incidents/{incident['id']}", json={"status": "acknowledged"})
    assert acked.status_code == 200
    time.sleep(1.5)
    assert phones.who().count("alice") == 1
    detail = client.get(f"/api/v1/incidents/{incident['id']}").json()
    alice = platform.users["alice"]
    assert [p["status"] for p in detail["pages"] if p["recipient"] == alice] == ["sent"]
    paged_alice = [e for e in detail["timeline"] if e["event_type"] == "paged" and e["data"]["recipient"] == alice]
    assert len(paged_alice) == 1
