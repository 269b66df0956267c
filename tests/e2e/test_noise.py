"""Quieting the platform, as real processes on loopback: an alert during a
maintenance window opens nothing and rings no phone, and the same alert after the
window does; a snoozed incident opens again and rings the phone again when the
snooze ends."""

import contextlib
import json
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from platform_testing import ServiceProcess, as_service, login_token, wait_for

from .test_platform import ADMIN, SECRET, Phone

pytestmark = pytest.mark.e2e


@contextlib.contextmanager
def _platform(database_url: str, **incident_env: str) -> Iterator[dict[str, ServiceProcess]]:
    """The four services wired together; `incident_env` added to incident-management's settings."""
    env = {"ENVIRONMENT": "test", "LOG_LEVEL": "WARNING"}
    processes = {
        role: ServiceProcess(role, {**env, "DATABASE_URL": as_service(database_url, role)})
        for role in ("oncall_service", "notification_service", "incident_management", "alert_ingestion")
    }
    processes["oncall_service"].env.update(ADMIN)
    processes["incident_management"].env.update(incident_env)
    wiring = {
        "ALERT_INGESTION_URL": processes["alert_ingestion"].url,
        "INCIDENT_SERVICE_URL": processes["incident_management"].url,
        "ONCALL_SERVICE_URL": processes["oncall_service"].url,
        "NOTIFICATION_SERVICE_URL": processes["notification_service"].url,
        "NOTIFICATION_WEBHOOK_SECRET": SECRET,
        "NOTIFICATION_POLL_SECONDS": "0.1",
        "INCIDENT_WORKER_INTERVAL_SECONDS": "0.2",
    }
    with contextlib.ExitStack() as stack:
        for process in processes.values():
            process.env.update(wiring)
            stack.enter_context(process)
        yield processes


def _on_call(
    processes: dict[str, ServiceProcess],
    phone: Phone,
    service: str,
    *,
    delay_minutes: int = 60,
    second: Phone | None = None,
) -> tuple[dict, str]:
    """Alice on call for `service` with `phone` as her webhook (and Bob, with `second`, the
    policy's next level after `delay_minutes`); the admin's headers and a sender key."""
    admin = login_token(processes["oncall_service"].url, ADMIN["ADMIN_EMAIL"], ADMIN["ADMIN_PASSWORD"])
    with httpx.Client(base_url=processes["oncall_service"].url, timeout=10, headers=admin) as oncall:

        def user(name: str, webhook: Phone) -> dict:
            contact = [{"type": "webhook", "address": webhook.url}]
            made = oncall.post(
                "/api/v1/users", json={"name": name, "email": f"{name.lower()}@example.com", "contact_methods": contact}
            )
            assert made.status_code == 201, made.text
            return made.json()

        people = [("Alice", phone), *([("Bob", second)] if second is not None else [])]
        levels = [
            {"delay_minutes": delay_minutes, "targets": [{"type": "user", "id": user(name, webhook)["id"]}]}
            for name, webhook in people
        ]
        policy = oncall.post("/api/v1/escalation-policies", json={"name": service, "levels": levels}).json()
        made = oncall.post("/api/v1/services", json={"name": service, "escalation_policy_id": policy["id"]})
        assert made.status_code == 201, made.text
    with httpx.Client(base_url=processes["alert_ingestion"].url, timeout=10, headers=admin) as ingestion:
        integration = ingestion.post("/api/v1/integrations", json={"name": "am", "service": service, "type": "generic"})
        assert integration.status_code == 201, integration.text
    return admin, integration.json()["key"]


def _triggered(phone: Phone) -> int:
    """How many pages asked for a responder (notices of a change are not counted)."""
    return sum(headers["x-notification-event"] == "triggered" for headers, _ in phone.pages)


def _paged_for(incidents: httpx.Client, incident_id: str, step: str) -> list[dict]:
    """The incident's timeline entries saying a page of `step` went out."""
    timeline = incidents.get(f"/api/v1/incidents/{incident_id}").json()["timeline"]
    return [e for e in timeline if e["event_type"] == "paged" and e["data"]["step"].startswith(step)]


def test_an_alert_in_a_maintenance_window_opens_nothing_and_after_it_pages(clean_database):
    phone = Phone()
    with _platform(clean_database) as processes:
        admin, key = _on_call(processes, phone, "checkout")
        ingestion = httpx.Client(base_url=processes["alert_ingestion"].url, timeout=10, headers=admin)
        incidents = httpx.Client(base_url=processes["incident_management"].url, timeout=10, headers=admin)
        end = datetime.now(UTC) + timedelta(seconds=4)
        window = ingestion.post("/api/v1/maintenance-windows", json={"services": ["checkout"], "end": end.isoformat()})
        assert window.status_code == 201, window.text

        alert = {"severity": "critical", "message": "Checkout pods OOMKilled", "dedup_key": "oom"}
        sender = {"Authorization": f"Bearer {key}"}
        during = httpx.post(f"{processes['alert_ingestion'].url}/api/v1/alerts", json=alert, headers=sender)
        assert during.status_code == 202 and during.json()["action"] == "suppressed", during.text
        time.sleep(max(0.0, (end - datetime.now(UTC)).total_seconds()) + 0.5)
        assert incidents.get("/api/v1/incidents").json()["total"] == 0, "the window's alert opened nothing"
        assert phone.pages == [], "and rang no one"
        stored = ingestion.get(f"/api/v1/alerts/{during.json()['alert_id']}").json()
        assert stored["action"] == "suppressed", "but it is stored and visible"

        after = httpx.post(f"{processes['alert_ingestion'].url}/api/v1/alerts", json=alert, headers=sender)
        assert after.json()["action"] == "created", after.text
        wait_for(lambda: phone.pages, timeout=20)
        assert incidents.get("/api/v1/incidents").json()["total"] == 1


def test_a_snoozed_incident_opens_and_pages_again_when_the_snooze_ends(clean_database):
    phone = Phone()
    # incident-management's clock runs 60 times fast: the one-minute snooze ends after a second.
    with _platform(clean_database, INCIDENT_CLOCK_SPEED="60") as processes:
        admin, key = _on_call(processes, phone, "checkout")
        incidents = httpx.Client(base_url=processes["incident_management"].url, timeout=10, headers=admin)
        alert = {"severity": "critical", "message": "Checkout 5xx", "dedup_key": "5xx"}
        sent = httpx.post(
            f"{processes['alert_ingestion'].url}/api/v1/alerts", json=alert, headers={"Authorization": f"Bearer {key}"}
        )
        incident_id = sent.json()["incident_id"]
        wait_for(lambda: _triggered(phone) == 1, timeout=20)
        acknowledged = incidents.patch(f"/api/v1/incidents/{incident_id}", json={"status": "acknowledged"})
        assert acknowledged.status_code == 200, acknowledged.text
        snoozed = incidents.post(f"/api/v1/incidents/{incident_id}/snooze", json={"minutes": 1})
        assert snoozed.status_code == 200, snoozed.text
        assert snoozed.json()["status"] == "acknowledged"

        wait_for(lambda: incidents.get(f"/api/v1/incidents/{incident_id}").json()["status"] == "open", timeout=20)
        # Alice was also told that the admin acknowledged it (a notice): the snooze's end rings again.
        wait_for(lambda: _triggered(phone) == 2, timeout=20)
        entries = incidents.get(f"/api/v1/incidents/{incident_id}").json()["timeline"]
        events = [e["event_type"] for e in entries]
        assert "snoozed" in events and "snooze_ended" in events
        # The page at the snooze's end names Alice, as every other page does (not her id).
        wait_for(lambda: _paged_for(incidents, incident_id, "snooze-"), timeout=20)
        assert _paged_for(incidents, incident_id, "snooze-")[0]["message"] == "Paged Alice via webhook"


def test_a_snoozed_incident_nobody_acknowledges_escalates_to_the_next_level(clean_database):
    alice_phone, bob_phone = Phone(), Phone()
    # The clock runs 60 times fast: the one-minute snooze ends after a second, the ten-minute
    # level delay is ten seconds (long enough to acknowledge Alice's first page under load).
    with _platform(clean_database, INCIDENT_CLOCK_SPEED="60") as processes:
        admin, key = _on_call(processes, alice_phone, "checkout", delay_minutes=10, second=bob_phone)
        incidents = httpx.Client(base_url=processes["incident_management"].url, timeout=10, headers=admin)
        alert = {"severity": "critical", "message": "Checkout 5xx", "dedup_key": "5xx"}
        sent = httpx.post(
            f"{processes['alert_ingestion'].url}/api/v1/alerts", json=alert, headers={"Authorization": f"Bearer {key}"}
        )
        incident_id = sent.json()["incident_id"]
        wait_for(lambda: _triggered(alice_phone) == 1, timeout=20)
        acknowledged = incidents.patch(f"/api/v1/incidents/{incident_id}", json={"status": "acknowledged"})
        assert acknowledged.status_code == 200, acknowledged.text
        assert bob_phone.pages == [], "Alice acknowledged before her level's delay ran out"
        snoozed = incidents.post(f"/api/v1/incidents/{incident_id}/snooze", json={"minutes": 1})
        assert snoozed.status_code == 200, snoozed.text

        wait_for(lambda: _triggered(alice_phone) == 2, timeout=20)
        reopened = incidents.get(f"/api/v1/incidents/{incident_id}").json()
        assert reopened["status"] == "open" and reopened["next_escalation_at"] is not None
        # Nobody acknowledges the re-triggered incident: the policy's second level is paged.
        wait_for(lambda: bob_phone.pages, timeout=40)
        assert bob_phone.pages[0][0]["x-notification-event"] == "escalated"
        assert incidents.get(f"/api/v1/incidents/{incident_id}").json()["escalation_level"] == 1


def test_an_alert_joining_an_acknowledged_incident_is_told_without_an_acknowledge_link(clean_database):
    phone = Phone()
    with _platform(clean_database) as processes:
        admin, key = _on_call(processes, phone, "checkout")
        incidents = httpx.Client(base_url=processes["incident_management"].url, timeout=10, headers=admin)
        sender = {"Authorization": f"Bearer {key}"}
        alerts = f"{processes['alert_ingestion'].url}/api/v1/alerts"
        first = httpx.post(alerts, json={"severity": "critical", "message": "Checkout 5xx"}, headers=sender).json()
        wait_for(lambda: _triggered(phone) == 1, timeout=20)
        acknowledged = incidents.patch(f"/api/v1/incidents/{first['incident_id']}", json={"status": "acknowledged"})
        assert acknowledged.status_code == 200, acknowledged.text

        # Same service and severity within the correlation window: it joins the acknowledged incident.
        joined = httpx.post(alerts, json={"severity": "critical", "message": "Checkout latency"}, headers=sender)
        assert joined.json()["action"] == "correlated", joined.text
        wait_for(lambda: [h for h, _ in phone.pages if h["x-notification-event"] == "alert_joined"], timeout=20)
        [body] = [json.loads(b) for h, b in phone.pages if h["x-notification-event"] == "alert_joined"]
        assert body["event"] == "alert_joined"
        assert "A new alert joined this incident, which is already acknowledged." in body["summary"]
        assert 'A new alert "Checkout latency" joined this incident (already acknowledged by ' in body["summary"]
        # Nothing offers to acknowledge what is acknowledged; resolving and opening it, yes.
        assert set(body["links"]) == {"incident", "resolve"}
        assert _triggered(phone) == 1, "no second page asking for a responder"
