"""Live updates over real HTTP: incident-management started for real, its change
stream (GET /api/v1/incidents/changes) read as a browser's EventSource reads it."""

import signal
import time
from collections.abc import Iterator

import httpx
import pytest

from platform_testing import (
    PLATFORM_HEADERS,
    EventStream,
    ServiceProcess,
    as_service,
    free_port,
    user_with_token,
    wait_for,
)

pytestmark = pytest.mark.e2e


@pytest.fixture
def service(clean_database: str) -> Iterator[ServiceProcess]:
    nowhere = f"http://127.0.0.1:{free_port()}"
    process = ServiceProcess(
        "incident_management",
        {
            "ENVIRONMENT": "test",
            "LOG_LEVEL": "WARNING",
            "DATABASE_URL": as_service(clean_database, "incident_management"),
            "ONCALL_SERVICE_URL": nowhere,
            "NOTIFICATION_SERVICE_URL": nowhere,
            "INCIDENT_WORKER_ENABLED": "false",
            "INCIDENT_CHANGES_INTERVAL_SECONDS": "0.2",
            "INCIDENT_CHANGES_HEARTBEAT_SECONDS": "1",
            "INCIDENT_CHANGES_MAX_STREAMS": "2",
            # Longer than the test waits for the process to end: the streams must end at the signal.
            "GRACEFUL_SHUTDOWN_SECONDS": "60",
        },
    ).start()
    try:
        yield process
    finally:
        process.stop()


def open_incident(url: str, title: str) -> str:
    created = httpx.post(
        f"{url}/api/v1/incidents",
        json={"title": title, "service": "payments", "severity": "high"},
        headers=PLATFORM_HEADERS,
        timeout=10,
    )
    assert created.status_code == 201, created.text
    return created.json()["id"]


def open_streams(url: str) -> float:
    text = httpx.get(f"{url}/metrics", timeout=5).text
    return next(float(line.split()[-1]) for line in text.splitlines() if line.startswith("incident_change_streams "))


def test_a_viewer_hears_of_each_change_and_a_stranger_is_refused(service, clean_database):
    _, viewer = user_with_token(clean_database, "Vera Viewer", role="viewer")
    changes = f"{service.url}/api/v1/incidents/changes"
    assert httpx.get(changes, timeout=5).status_code == 401
    assert httpx.get(changes, headers={"Authorization": "Bearer nope"}, timeout=5).status_code == 401

    open_incident(service.url, "Changed before anyone watched")
    stream = EventStream(changes, viewer)
    try:
        assert stream.status == 200
        assert stream.headers["content-type"].startswith("text/event-stream")
        assert stream.headers["x-accel-buffering"] == "no"
        # Quiet: only the heartbeat comes, and it keeps coming; what changed before is no event.
        quiet = [stream.lines.get(timeout=5) for _ in range(8)]
        assert quiet.count(": keep-alive") >= 2, quiet
        assert "event: changed" not in quiet, quiet
        opened = open_incident(service.url, "Card payments failing")
        assert stream.next_event()["incidents"] == [opened]
        acknowledged = httpx.patch(
            f"{service.url}/api/v1/incidents/{opened}",
            json={"status": "acknowledged"},
            headers=PLATFORM_HEADERS,
            timeout=10,
        )
        assert acknowledged.status_code == 200
        event = stream.next_event()
        assert event["incidents"] == [opened]
        assert int(str(event["version"])) > 0
    finally:
        stream.close()


def test_streams_beyond_the_cap_are_refused_counted_and_ended_at_shutdown(service, clean_database):
    _, viewer = user_with_token(clean_database, "Vera Viewer", role="viewer")
    changes = f"{service.url}/api/v1/incidents/changes"
    streams = [EventStream(changes, viewer) for _ in range(2)]
    try:
        assert [s.status for s in streams] == [200, 200]
        wait_for(lambda: open_streams(service.url) == 2)
        refused = httpx.get(changes, headers=viewer, timeout=5)
        assert refused.status_code == 503
        assert refused.headers["retry-after"] == "30"
        assert "poll" in refused.json()["detail"]

        streams.pop().close()
        wait_for(lambda: open_streams(service.url) == 1)
        streams.append(EventStream(changes, viewer))
        assert streams[-1].status == 200

        # SIGTERM: the open streams end at once, not after the 60 s graceful drain.
        started = time.monotonic()
        # uvicorn drains, then re-raises the signal it caught: -SIGTERM, not a kill after the timeout.
        assert service.stop(timeout=20) == -signal.SIGTERM
        assert time.monotonic() - started < 10
        assert all(s.ended(5) for s in streams)
    finally:
        for stream in streams:
            stream.close()
