"""The real process's log at INFO: a delivery says where it went (scheme and
host), never the URL that is the recipient's credential."""

import json
import time

import httpx
import pytest

from platform_testing import PLATFORM_HEADERS, ServiceProcess

from .test_crash import page, service_env, settle

pytestmark = pytest.mark.e2e


def _logged(service: ServiceProcess, message: str, notification_id: str, within: float = 10.0) -> dict:
    """The JSON log line `message` about that notification; the worker writes it just after the commit."""
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        for line in service.output().splitlines():
            entry = json.loads(line) if line.startswith("{") else {}
            if entry.get("message") == message and entry.get("notification_id") == notification_id:
                return entry
        time.sleep(0.05)
    raise AssertionError(f"no {message!r} line for {notification_id}:\n{service.output()}")


def test_a_delivery_is_logged_with_scheme_and_host_only(clean_database, receiver):
    body = page(receiver.url, "logged-1")
    body["targets"] = [{"channel": "webhook", "target": f"{receiver.url}/hooks/pager?token=s3cr3t-token"}]
    with ServiceProcess("notification_service", service_env(clean_database, LOG_LEVEL="INFO")) as service:
        accepted = httpx.post(f"{service.url}/api/v1/notify", json=body, headers=PLATFORM_HEADERS)
        assert accepted.status_code == 202, accepted.text
        [notification] = accepted.json()["notifications"]
        assert settle(service.url, notification["id"], receiver, 1)["status"] == "delivered"
        line = _logged(service, "notification delivered", notification["id"])

    assert line["target"] == f"{receiver.url}/…"
    assert "s3cr3t" not in service.output()
