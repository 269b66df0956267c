"""The contract with the real oncall-service: a user created there is paged here, mutes included."""

import time

import httpx
import pytest

from platform_testing import ServiceProcess

pytestmark = pytest.mark.e2e
pytest.importorskip("oncall_service")


def test_user_from_oncall_service_is_paged_on_their_methods(clean_database, receiver):
    env = {"DATABASE_URL": clean_database, "ENVIRONMENT": "test", "LOG_LEVEL": "WARNING"}
    with ServiceProcess("oncall_service", env) as oncall:
        user = httpx.post(
            f"{oncall.url}/api/v1/users",
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

        notify_env = {**env, "ONCALL_SERVICE_URL": oncall.url, "NOTIFICATION_POLL_SECONDS": "0.1"}
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
                },
            )
            assert response.status_code == 202, response.text
            statuses = {n["channel"]: n["status"] for n in response.json()["notifications"]}
            assert statuses == {"webhook": "pending", "slack": "suppressed"}

            receiver.wait_for(1)
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline:
                page = httpx.get(f"{notifications.url}/api/v1/notifications", params={"recipient": user_id}).json()
                if {item["status"] for item in page["items"]} == {"delivered", "suppressed"}:
                    break
                time.sleep(0.1)
            assert {item["status"] for item in page["items"]} == {"delivered", "suppressed"}

    assert [r.path for r in receiver.received] == ["/grace"]
    assert receiver.received[0].json()["incident"]["title"] == "Search is down"
