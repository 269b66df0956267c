"""The contract with the real oncall-service: the user its on-call answer names, with
their contact methods and mutes, is paged here as the caller passes them on, even
after oncall-service has gone down (this service never asks it)."""

import time

import httpx
import pytest

from platform_testing import PLATFORM_HEADERS, ServiceProcess, as_service, require_module

pytestmark = pytest.mark.e2e
require_module("oncall_service", "pip install -e services/oncall-service (make install does)")


def test_the_on_call_answer_pages_its_user_on_their_methods_with_oncall_service_down(clean_database, receiver):
    env = {"DATABASE_URL": as_service(clean_database, "oncall_service"), "ENVIRONMENT": "test", "LOG_LEVEL": "WARNING"}
    with ServiceProcess("oncall_service", env) as oncall:
        api = httpx.Client(headers=PLATFORM_HEADERS, base_url=oncall.url, timeout=5)
        user = api.post(
            "/api/v1/users",
            json={
                "name": "Grace Hopper",
                "email": "grace@example.com",
                "contact_methods": [
                    {"type": "webhook", "address": f"{receiver.url}/grace"},
                    {"type": "slack", "address": f"{receiver.url}/slack"},
                    {"type": "sms", "address": "+1 555 0100"},
                ],
                "muted_channels": ["slack"],
            },
        )
        assert user.status_code == 201, user.text
        user_id = user.json()["id"]
        policy = api.post(
            "/api/v1/escalation-policies",
            json={"name": "search", "levels": [{"delay_minutes": 5, "targets": [{"type": "user", "id": user_id}]}]},
        )
        assert policy.status_code == 201, policy.text
        service = api.post("/api/v1/services", json={"name": "search", "escalation_policy_id": policy.json()["id"]})
        assert service.status_code == 201, service.text
        answer = api.get("/api/v1/oncall/current", params={"service": "search"}).json()
    # oncall-service is stopped from here on.
    primary = answer["primary"]
    assert primary["id"] == user_id
    assert answer["escalation_chain"][0]["users"][0]["contact_methods"] == primary["contact_methods"]

    notify_env = {
        **env,
        "DATABASE_URL": as_service(clean_database, "notification_service"),
        "ONCALL_SERVICE_URL": oncall.url,
        "NOTIFICATION_POLL_SECONDS": "0.1",
    }
    with ServiceProcess("notification_service", notify_env) as notifications:
        response = httpx.post(
            f"{notifications.url}/api/v1/notify",
            json={
                "idempotency_key": "contract-1",
                "event": "triggered",
                "incident": {
                    "id": "6f1c2a52-3b7e-4d55-9d0f-7f3f7b0c9a11",
                    "title": "Search is down",
                    "service": "search",
                    "severity": "critical",
                },
                "user_id": user_id,
                "contact": {
                    "name": primary["name"],
                    "contact_methods": primary["contact_methods"],
                    "muted_channels": primary["muted_channels"],
                    "muted_severities": primary["muted_severities"],
                },
            },
            headers=PLATFORM_HEADERS,
        )
        assert response.status_code == 202, response.text
        statuses = {n["channel"]: n["status"] for n in response.json()["notifications"]}
        assert statuses == {"webhook": "pending", "slack": "suppressed"}

        receiver.wait_for(1)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            page = httpx.get(
                f"{notifications.url}/api/v1/notifications", params={"recipient": user_id}, headers=PLATFORM_HEADERS
            ).json()
            if {item["status"] for item in page["items"]} == {"delivered", "suppressed"}:
                break
            time.sleep(0.1)
        assert {item["status"] for item in page["items"]} == {"delivered", "suppressed"}

    assert [r.path for r in receiver.received] == ["/grace"]
    assert receiver.received[0].json()["incident"]["title"] == "Search is down"
