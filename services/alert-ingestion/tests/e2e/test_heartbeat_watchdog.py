"""The dead-man's switch with a real Prometheus Alertmanager: the always-firing
Watchdog alert is routed to a heartbeat's ping URL (the README's receiver); when
Alertmanager stops, the heartbeat goes late and an incident opens within the
interval plus a minute; when it runs again, the ping resolves it."""

import shutil
import time

import httpx
import pytest

from platform_testing import PLATFORM_HEADERS, ServiceProcess, as_service, wait_for

from .test_real_senders import Alertmanager, new_key

pytestmark = pytest.mark.e2e
INTERVAL = 10  # seconds: the shortest a heartbeat takes


def watchdog_config(ping_url: str, key: str) -> str:
    """The README's receiver, with short timings: Watchdog re-sent every 2 s."""
    return f"""
route:
  receiver: default
  routes:
    - receiver: heartbeat
      matchers: ['alertname="Watchdog"']
      group_wait: 1s
      group_interval: 1s
      repeat_interval: 2s
receivers:
  - name: default
  - name: heartbeat
    webhook_configs:
      - url: {ping_url}
        send_resolved: false
        http_config:
          authorization:
            type: Bearer
            credentials: {key}
"""


@pytest.fixture
def ingestion(clean_database, incident_service):
    env = {
        "ENVIRONMENT": "test",
        "DATABASE_URL": as_service(clean_database, "alert_ingestion"),
        "INCIDENT_SERVICE_URL": incident_service.url,
        "INCIDENT_ACTIONS_INTERVAL_SECONDS": "0.5",
        "READINESS_INTERVAL_SECONDS": "60",
        "HEARTBEAT_CHECK_INTERVAL_SECONDS": "1",
    }
    with ServiceProcess("alert_ingestion", env) as process:
        yield process


def test_stopping_alertmanager_opens_an_incident_and_starting_it_resolves_it(ingestion, db):
    api = httpx.Client(base_url=ingestion.url, headers=PLATFORM_HEADERS, timeout=10)
    made = api.post(
        "/api/v1/heartbeats",
        json={"service": "monitoring", "name": "prometheus-watchdog", "interval_seconds": INTERVAL},
    )
    assert made.status_code == 201, made.text
    heartbeat = made.json()
    key = new_key(ingestion.url, "monitoring", "alertmanager")
    alertmanager = Alertmanager(watchdog_config(f"{ingestion.url}{heartbeat['ping_url']}", key))
    try:
        alertmanager.start()
        alertmanager.watchdog()
        wait_for(lambda: api.get(f"/api/v1/heartbeats/{heartbeat['id']}").json()["last_ping_at"], timeout=20)
        time.sleep(INTERVAL + 2)
        assert db.incidents() == [], "pinged every 2 s: no incident"

        alertmanager.stop()
        stopped = time.monotonic()
        [incident] = wait_for(db.incidents, timeout=INTERVAL + 60)
        assert time.monotonic() - stopped <= INTERVAL + 60
        assert incident.service == "monitoring" and incident.status == "open"
        assert incident.title.startswith("heartbeat prometheus-watchdog missed since ")

        alertmanager.start()  # a restarted Alertmanager gets the Watchdog again from Prometheus
        alertmanager.watchdog()
        assert wait_for(lambda: db.incident(incident.id).status == "resolved", timeout=30)
        assert api.get(f"/api/v1/heartbeats/{heartbeat['id']}").json()["missed_since"] is None
    finally:
        alertmanager.stop()
        shutil.rmtree(alertmanager.folder, ignore_errors=True)
