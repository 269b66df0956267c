"""Paging that tells the truth, on the real processes: the four services on their
own ports over one database, alerts sent to alert-ingestion, and a webhook
receiver standing in for the responders' phones. incident-management's clock runs
60x faster, so a minute of policy passes in a second.

- a level whose schedule has nobody on call is passed over at once, and the page
  of the next level says so;
- a policy with `repeat_count` 1 pages its levels twice;
- "escalate now" pages the next level at once, saying who asked;
- an acknowledgement left untouched past the service's timeout pages again.
"""

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from platform_testing import PLATFORM_HEADERS, ServiceProcess, wait_for

from ..conftest import Phones

pytestmark = pytest.mark.e2e


@dataclass
class Platform:
    phones: Phones
    oncall: httpx.Client
    incidents: httpx.Client
    ingestion: httpx.Client
    users: dict[str, str]

    def person(self, name: str) -> str:
        created = self.oncall.post(
            "/api/v1/users",
            json={
                "name": f"{name.title()} Example",
                "email": f"{name}@example.com",
                "contact_methods": [{"type": "webhook", "address": f"{self.phones.server.url}/hook/{name}"}],
            },
        )
        assert created.status_code == 201, created.text
        self.users[name] = created.json()["id"]
        return self.users[name]

    def service(self, levels: list[tuple[int, dict[str, str]]], *, repeat_count: int = 0, **settings: Any) -> str:
        """A service `payments` paging these levels ((delay, target)); its integration key."""
        policy = self.oncall.post(
            "/api/v1/escalation-policies",
            json={
                "name": "Payments",
                "repeat_count": repeat_count,
                "levels": [{"delay_minutes": delay, "targets": [target]} for delay, target in levels],
            },
        )
        assert policy.status_code == 201, policy.text
        body = {"name": "payments", "escalation_policy_id": policy.json()["id"], **settings}
        assert (service := self.oncall.post("/api/v1/services", json=body)).status_code == 201, service.text
        key = self.ingestion.post("/api/v1/integrations", json={"name": "am", "service": "payments", "type": "generic"})
        assert key.status_code == 201, key.text
        return key.json()["key"]

    def alert(self, key: str, message: str = "card payments failing") -> str:
        sent = self.ingestion.post(
            "/api/v1/alerts",
            json={"severity": "critical", "message": message},
            headers={"Authorization": f"Bearer {key}"},
        )
        assert sent.status_code == 202, sent.text
        return sent.json()["incident_id"]

    def detail(self, incident_id: str) -> dict[str, Any]:
        return self.incidents.get(f"/api/v1/incidents/{incident_id}").json()

    def timeline(self, incident_id: str) -> list[str]:
        return [entry["message"] for entry in self.detail(incident_id)["timeline"]]


@pytest.fixture
def platform(clean_database: str) -> Iterator[Platform]:
    phones = Phones()
    phones.server.start()
    env = {"DATABASE_URL": clean_database, "ENVIRONMENT": "test", "LOG_LEVEL": "WARNING"}
    started: list[ServiceProcess] = []
    try:
        oncall = ServiceProcess("oncall_service", env).start()
        started.append(oncall)
        notifications = ServiceProcess(
            "notification_service",
            {**env, "ONCALL_SERVICE_URL": oncall.url, "NOTIFICATION_POLL_SECONDS": "0.1"},
        ).start()
        started.append(notifications)
        incidents = ServiceProcess(
            "incident_management",
            {
                **env,
                "ONCALL_SERVICE_URL": oncall.url,
                "NOTIFICATION_SERVICE_URL": notifications.url,
                "INCIDENT_CLOCK_SPEED": "60",
                "INCIDENT_WORKER_INTERVAL_SECONDS": "0.2",
            },
        )
        incidents.env["INCIDENT_SERVICE_URL"] = incidents.url
        incidents.start()
        started.append(incidents)
        ingestion = ServiceProcess("alert_ingestion", {**env, "INCIDENT_SERVICE_URL": incidents.url}).start()
        started.append(ingestion)

        def client(process: ServiceProcess) -> httpx.Client:
            return httpx.Client(headers=PLATFORM_HEADERS, base_url=process.url, timeout=10)

        yield Platform(phones, client(oncall), client(incidents), client(ingestion), {})
    finally:
        for process in reversed(started):
            process.stop()
        phones.server.stop()


def test_a_level_with_nobody_on_call_is_skipped_at_once_and_the_page_says_so(platform):
    alice = platform.person("alice")
    bob = platform.person("bob")
    # Alice's rotation starts next year: today its schedule has nobody on call.
    next_year = (datetime.now(UTC) + timedelta(days=365)).date().isoformat()
    schedule = platform.oncall.post(
        "/api/v1/schedules",
        json={
            "name": "Payments primary",
            "timezone": "Europe/Berlin",
            "layers": [{"rotation_type": "daily", "start_date": next_year, "members": [alice]}],
        },
    )
    assert schedule.status_code == 201, schedule.text
    key = platform.service([(30, {"type": "schedule", "id": schedule.json()["id"]}), (30, {"type": "user", "id": bob})])
    incident = platform.alert(key)
    # Level 1's 30 minutes (30 s here) are not waited out: bob rings at once.
    wait_for(lambda: "bob" in platform.phones.who(), timeout=15)
    [(who, message)] = platform.phones.messages()
    assert who == "bob"
    assert message == (
        "First page: you are on call for payments at level 2 (Bob Example)"
        " because level 1 (Payments primary) had nobody on call."
    )
    wait_for(lambda: any(m.startswith("Paged Bob Example via webhook") for m in platform.timeline(incident)))
    timeline = platform.timeline(incident)
    assert any("level 1 (Payments primary) had nobody on call" in m for m in timeline), timeline
    assert not any(bob in m for m in timeline), "names, not ids, in the timeline"


def test_a_policy_with_repeat_1_pages_its_levels_twice(platform):
    alice, bob = platform.person("alice"), platform.person("bob")
    key = platform.service([(1, {"type": "user", "id": alice}), (1, {"type": "user", "id": bob})], repeat_count=1)
    incident = platform.alert(key)
    wait_for(lambda: len(platform.phones.who()) >= 4, timeout=30)
    wait_for(lambda: "escalation_exhausted" in [e["event_type"] for e in platform.detail(incident)["timeline"]])
    assert platform.phones.who() == ["alice", "bob", "alice", "bob"]
    reasons = [message for _, message in platform.phones.messages()]
    assert reasons[0].startswith("First page:")
    assert "repeat 1 of 1" in reasons[2] and "nobody acknowledged within 1 min" in reasons[2]


def test_escalate_now_pages_the_next_level_at_once(platform):
    alice, bob = platform.person("alice"), platform.person("bob")
    key = platform.service([(60, {"type": "user", "id": alice}), (60, {"type": "user", "id": bob})])
    incident = platform.alert(key)
    wait_for(lambda: "alice" in platform.phones.who(), timeout=15)
    asked = platform.incidents.post(f"/api/v1/incidents/{incident}/escalate")
    assert asked.status_code == 202, asked.text
    # Level 1 has an hour (a minute here); bob rings within seconds.
    wait_for(lambda: "bob" in platform.phones.who(), timeout=10)
    assert platform.phones.messages()[-1] == (
        "bob",
        "Manual escalation by platform: escalated to you at level 2 (Bob Example).",
    )


def test_an_acknowledgement_left_untouched_past_the_timeout_pages_again(platform):
    alice, bob = platform.person("alice"), platform.person("bob")
    key = platform.service(
        [(60, {"type": "user", "id": alice}), (60, {"type": "user", "id": bob})],
        acknowledgement_timeout_minutes=1,
    )
    incident = platform.alert(key)
    wait_for(lambda: "alice" in platform.phones.who(), timeout=15)
    acked = platform.incidents.patch(f"/api/v1/incidents/{incident}", json={"status": "acknowledged"})
    assert acked.status_code == 200, acked.text
    assert acked.json()["next_escalation_at"] is not None
    # A minute (a second here) later, untouched: back to triggered, and alice rings again.
    wait_for(lambda: platform.phones.who().count("alice") == 2, timeout=15)
    assert platform.phones.messages()[-1] == (
        "alice",
        "Re-notify: this incident was acknowledged but untouched for 1 min; it is triggered again and you are"
        " paged at level 1 (Alice Example).",
    )
    detail = platform.detail(incident)
    assert detail["status"] == "open"
    assert detail["mtta_seconds"] == acked.json()["mtta_seconds"]
    assert "bob" not in platform.phones.who()
