"""The real service process, SIGKILLed between accepting a page and sending it: nothing is lost."""

import threading

import httpx
import pytest

from platform_testing import PLATFORM_HEADERS, ServiceProcess, as_service, wait_for

pytestmark = pytest.mark.e2e


def service_env(database_url: str, **extra: str) -> dict[str, str]:
    return {
        "DATABASE_URL": as_service(database_url, "notification_service"),
        "ENVIRONMENT": "test",
        "NOTIFICATION_WEBHOOK_SECRET": "e2e-secret",
        "NOTIFICATION_POLL_SECONDS": "0.1",
        "NOTIFICATION_RETRY_BASE_SECONDS": "0.2",
        "NOTIFICATION_HTTP_TIMEOUT_SECONDS": "1",
        "SMTP_TIMEOUT_SECONDS": "1",
        "NOTIFICATION_LEASE_SECONDS": "2",
        "GRACEFUL_SHUTDOWN_SECONDS": "2",
        "LOG_LEVEL": "WARNING",
        **extra,
    }


def page(receiver_url: str, key: str) -> dict:
    return {
        "idempotency_key": key,
        "event": "triggered",
        "incident": {
            "id": "6f1c2a52-3b7e-4d55-9d0f-7f3f7b0c9a11",
            "title": "Payments failing",
            "service": "payments",
            "severity": "critical",
            "status": "open",
        },
        "targets": [{"channel": "webhook", "target": f"{receiver_url}/hook"}],
    }


def settle(url: str, notification_id: str, receiver, count: int) -> dict:
    receiver.wait_for(count)
    for _ in range(100):
        row = httpx.get(f"{url}/api/v1/notifications/{notification_id}", headers=PLATFORM_HEADERS).json()
        if row["status"] in ("delivered", "failed"):
            return row
        threading.Event().wait(0.1)
    return row


def all_final(url: str) -> bool:
    """Nothing is left for the service's worker to send."""
    rows = httpx.get(f"{url}/api/v1/notifications", params={"limit": 200}, headers=PLATFORM_HEADERS).json()["items"]
    return all(row["status"] in ("delivered", "failed", "suppressed") for row in rows)


def test_killed_after_accepting_then_restarted_delivers_exactly_once(clean_database, receiver):
    # The first process accepts and stores the page, then dies before any worker
    # touches it (its worker is off, to make "between accept and send" certain).
    accepting = ServiceProcess(
        "notification_service", service_env(clean_database, NOTIFICATION_WORKER_ENABLED="false")
    ).start()
    try:
        response = httpx.post(
            f"{accepting.url}/api/v1/notify", json=page(receiver.url, "crash-1"), headers=PLATFORM_HEADERS
        )
        assert response.status_code == 202
        [notification] = response.json()["notifications"]
    finally:
        accepting.kill()
    assert receiver.received == []

    with ServiceProcess("notification_service", service_env(clean_database)) as restarted:
        row = settle(restarted.url, notification["id"], receiver, 1)
        # The caller retrying its request after the crash changes nothing.
        repeat = httpx.post(
            f"{restarted.url}/api/v1/notify", json=page(receiver.url, "crash-1"), headers=PLATFORM_HEADERS
        )
        assert repeat.status_code == 200
        assert repeat.json()["notifications"][0]["id"] == notification["id"]
        # Once every stored delivery is final, whatever the repeat queued has been sent too.
        wait_for(lambda: all_final(restarted.url))

    assert row["status"] == "delivered"
    assert [a["result"] for a in row["attempt_history"]] == ["success"]
    assert len(receiver.received) == 1


def test_killed_in_the_middle_of_a_send_is_resent_after_the_lease(clean_database, receiver):
    # The receiver holds the first request open, so the process dies mid-send.
    receiver.hold = threading.Event()
    first = ServiceProcess("notification_service", service_env(clean_database)).start()
    try:
        response = httpx.post(
            f"{first.url}/api/v1/notify", json=page(receiver.url, "crash-2"), headers=PLATFORM_HEADERS
        )
        [notification] = response.json()["notifications"]
        assert receiver.arrived.wait(10)
    finally:
        first.kill()
    receiver.hold.set()

    with ServiceProcess("notification_service", service_env(clean_database)) as second:
        row = settle(second.url, notification["id"], receiver, 2)

    assert row["status"] == "delivered"
    assert [a["result"] for a in row["attempt_history"]] == ["abandoned", "success"]
    # Delivery is at least once: the receiver saw the cut-off request and the
    # resend, both with one notification id, so it can keep exactly one.
    assert len(receiver.received) == 2
    assert {r.headers["X-Notification-Id"] for r in receiver.received} == {notification["id"]}


def test_sigterm_lets_the_send_in_flight_finish_and_record(clean_database, receiver):
    receiver.hold = threading.Event()
    service = ServiceProcess("notification_service", service_env(clean_database)).start()
    try:
        response = httpx.post(
            f"{service.url}/api/v1/notify", json=page(receiver.url, "term-1"), headers=PLATFORM_HEADERS
        )
        [notification] = response.json()["notifications"]
        assert receiver.arrived.wait(10)
        # The receiver answers a moment after the SIGTERM has arrived.
        threading.Timer(0.5, receiver.hold.set).start()
    finally:
        service.stop()  # SIGTERM; uvicorn drains, runs the lifespan's exit, then re-raises the signal

    reader = ServiceProcess("notification_service", service_env(clean_database, NOTIFICATION_WORKER_ENABLED="false"))
    with reader:
        row = httpx.get(f"{reader.url}/api/v1/notifications/{notification['id']}", headers=PLATFORM_HEADERS).json()
    assert row["status"] == "delivered"
    assert [a["result"] for a in row["attempt_history"]] == ["success"]
    assert len(receiver.received) == 1
