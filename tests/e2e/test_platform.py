"""The whole platform as real processes on loopback, as a monitoring system and a
responder meet it: a PagerDuty event arrives at the front door, an incident
opens, the on-call engineer's webhook rings (signed), the sender's acknowledge
and resolve reach the incident, and MTTA/MTTR and the timeline tell the story."""

import contextlib
import hashlib
import hmac
import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest

from platform_testing import ServiceProcess, as_service, login_token, wait_for

pytestmark = pytest.mark.e2e
SECRET = "platform-e2e-secret"
# The first admin, made by oncall-service on its first start (test-only password).
ADMIN = {"ADMIN_EMAIL": "admin@example.com", "ADMIN_PASSWORD": "e2e-admin-password"}


@dataclass
class Phone:
    """A responder's webhook: a real HTTP server on loopback recording each page."""

    pages: list[tuple[dict[str, str], bytes]] = field(default_factory=list)

    def __post_init__(self) -> None:
        phone = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                phone.pages.append(({k.lower(): v for k, v in self.headers.items()}, body))
                self.send_response(200)
                self.end_headers()

            def log_message(self, *_args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_port}/page"


def _events(client: httpx.Client, incident_id: str) -> list[str]:
    return [entry["event_type"] for entry in client.get(f"/api/v1/incidents/{incident_id}").json()["timeline"]]


@dataclass
class Platform:
    ingestion: ServiceProcess
    incidents: ServiceProcess
    oncall: ServiceProcess
    notifications: ServiceProcess


@pytest.fixture
def platform(clean_database: str) -> Iterator[Platform]:
    env = {"ENVIRONMENT": "test", "LOG_LEVEL": "WARNING"}

    def service(role: str, **extra: str) -> ServiceProcess:
        return ServiceProcess(role, {**env, "DATABASE_URL": as_service(clean_database, role), **extra})

    oncall = service("oncall_service", **ADMIN)
    notifications = service("notification_service")
    incidents = service("incident_management")
    ingestion = service("alert_ingestion")
    wiring = {
        "ALERT_INGESTION_URL": ingestion.url,
        "INCIDENT_SERVICE_URL": incidents.url,
        "ONCALL_SERVICE_URL": oncall.url,
        "NOTIFICATION_SERVICE_URL": notifications.url,
        "NOTIFICATION_WEBHOOK_SECRET": SECRET,
        "NOTIFICATION_POLL_SECONDS": "0.1",
        "INCIDENT_WORKER_INTERVAL_SECONDS": "0.2",
    }
    with contextlib.ExitStack() as stack:
        for process in (oncall, notifications, incidents, ingestion):
            process.env.update(wiring)
            stack.enter_context(process)
        yield Platform(ingestion, incidents, oncall, notifications)


def test_an_alert_pages_the_on_call_engineer_and_the_sender_closes_the_loop(platform):
    phone = Phone()
    # The admin logs in and makes a token for their script; one token works on every service.
    admin = login_token(platform.oncall.url, ADMIN["ADMIN_EMAIL"], ADMIN["ADMIN_PASSWORD"])
    oncall = httpx.Client(base_url=platform.oncall.url, timeout=10, headers=admin)
    incidents = httpx.Client(base_url=platform.incidents.url, timeout=10, headers=admin)
    ingestion = httpx.Client(base_url=platform.ingestion.url, timeout=10, headers=admin)

    alice = oncall.post(
        "/api/v1/users",
        json={
            "name": "Alice",
            "email": "alice@example.com",
            "contact_methods": [{"type": "webhook", "address": phone.url}],
        },
    ).json()
    policy = oncall.post(
        "/api/v1/escalation-policies",
        json={"name": "checkout", "levels": [{"delay_minutes": 10, "targets": [{"type": "user", "id": alice["id"]}]}]},
    ).json()
    service = oncall.post("/api/v1/services", json={"name": "checkout", "escalation_policy_id": policy["id"]})
    assert service.status_code == 201, service.text
    integration = ingestion.post(
        "/api/v1/integrations", json={"name": "prometheus", "service": "checkout", "type": "pagerduty"}
    )
    assert integration.status_code == 201, integration.text
    key = integration.json()["key"]

    trigger = {
        "routing_key": key,
        "event_action": "trigger",
        "dedup_key": "checkout-5xx",
        "payload": {"summary": "Checkout 5xx above 5%", "source": "prometheus", "severity": "critical"},
    }
    accepted = ingestion.post("/v2/enqueue", json=trigger)
    assert accepted.status_code == 202, accepted.text
    assert accepted.json()["dedup_key"] == "checkout-5xx"
    assert ingestion.post("/v2/enqueue", json=trigger).status_code == 202  # a sender's retry

    listed = wait_for(lambda: incidents.get("/api/v1/incidents", params={"service": "checkout"}).json()["items"])
    assert len(listed) == 1
    incident = listed[0]
    assert incident["severity"] == "critical"
    assert incident["alert_count"] == 2
    assert wait_for(lambda: incidents.get(f"/api/v1/incidents/{incident['id']}").json()["assigned_to"]) == alice["id"]

    headers, body = wait_for(lambda: phone.pages and phone.pages[0])
    expected = "sha256=" + hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
    assert hmac.compare_digest(headers["x-signature-256"], expected)
    page = json.loads(body)
    assert "Checkout 5xx above 5%" in json.dumps(page)

    # The delivery result flows back into the incident's timeline.
    wait_for(lambda: _events(incidents, incident["id"]).count("notified") == 1)

    for action in ("acknowledge", "resolve"):
        event = {"routing_key": key, "event_action": action, "dedup_key": "checkout-5xx"}
        sent = ingestion.post("/v2/enqueue", json=event)
        assert sent.status_code == 202, sent.text
    resolved = wait_for(
        lambda: (d := incidents.get(f"/api/v1/incidents/{incident['id']}").json())["status"] == "resolved" and d
    )
    assert resolved["mtta_seconds"] is not None
    assert resolved["mttr_seconds"] >= resolved["mtta_seconds"]
    events = [entry["event_type"] for entry in resolved["timeline"]]
    for expected_event in ("created", "alert_attached", "assigned", "paged", "notified", "acknowledged", "resolved"):
        assert expected_event in events, (expected_event, events)
    # Paged once: the sender's retry rang nothing more (the acknowledgement and the
    # resolve are told to alice as notices, not pages).
    assert [json.loads(body)["event"] for _, body in phone.pages].count("triggered") == 1

    # After the resolve, the same dedup key opens a new incident, as PagerDuty does.
    assert ingestion.post("/v2/enqueue", json=trigger).status_code == 202
    assert wait_for(lambda: incidents.get("/api/v1/incidents", params={"service": "checkout"}).json()["total"] == 2)
