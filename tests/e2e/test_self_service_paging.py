"""Self-service paging as real processes on loopback (the four services, a real
SMTP server, webhook receivers): a responder sets up their own contact methods
and notification rules, and the platform pages them by those rules; everyone
paged is told of an acknowledgement; a shift start is told as it happens.

incident-management runs its clock ten times faster (INCIDENT_CLOCK_SPEED), so
a rule's "after 1 minute" is six seconds here, not a sleep of sixty."""

import contextlib
import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest
from aiosmtpd.controller import Controller

from platform_testing import ServiceProcess, as_service, free_port, login_token, wait_for

pytestmark = pytest.mark.e2e
ADMIN = {"ADMIN_EMAIL": "admin@example.com", "ADMIN_PASSWORD": "e2e-admin-password"}
PASSWORD = "responder-password-1"
SPEED = 10  # incident-management's clock: one minute of rules passes in six seconds


@dataclass
class Phone:
    """A webhook receiver on loopback, recording each JSON body it is sent."""

    bodies: list[dict[str, Any]] = field(default_factory=list)

    def __post_init__(self) -> None:
        phone = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                phone.bodies.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
                self.send_response(200)
                self.end_headers()

            def log_message(self, *_args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_port}/page"

    def events(self) -> list[str]:
        return [body["event"] for body in self.bodies]


class Mailbox:
    """aiosmtpd's handler: every message accepted, kept with its recipients."""

    def __init__(self) -> None:
        self.messages: list[Any] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        self.messages.append(envelope)
        return "250 Message accepted for delivery"

    def to(self, address: str) -> list[Any]:
        return [m for m in self.messages if address in m.rcpt_tos]


@dataclass
class Platform:
    oncall: str
    incidents: str
    mailbox: Mailbox


@pytest.fixture
def platform(clean_database: str) -> Iterator[Platform]:
    mailbox = Mailbox()
    smtp = Controller(mailbox, hostname="127.0.0.1", port=free_port())
    smtp.start()
    env = {"ENVIRONMENT": "test", "LOG_LEVEL": "WARNING"}

    def service(role: str, **extra: str) -> ServiceProcess:
        return ServiceProcess(role, {**env, "DATABASE_URL": as_service(clean_database, role), **extra})

    oncall = service("oncall_service", ONCALL_NOTICE_INTERVAL_SECONDS="1", **ADMIN)
    notifications = service("notification_service", SMTP_HOST="127.0.0.1", SMTP_PORT=str(smtp.port))
    incidents = service("incident_management", INCIDENT_CLOCK_SPEED=str(SPEED))
    ingestion = service("alert_ingestion")
    wiring = {
        "ALERT_INGESTION_URL": ingestion.url,
        "INCIDENT_SERVICE_URL": incidents.url,
        "ONCALL_SERVICE_URL": oncall.url,
        "NOTIFICATION_SERVICE_URL": notifications.url,
        "NOTIFICATION_POLL_SECONDS": "0.1",
        "INCIDENT_WORKER_INTERVAL_SECONDS": "0.2",
    }
    try:
        with contextlib.ExitStack() as stack:
            for process in (oncall, notifications, incidents, ingestion):
                process.env.update(wiring)
                stack.enter_context(process)
            yield Platform(oncall.url, incidents.url, mailbox)
    finally:
        smtp.stop()


def _admin(platform: Platform) -> httpx.Client:
    headers = login_token(platform.oncall, ADMIN["ADMIN_EMAIL"], ADMIN["ADMIN_PASSWORD"])
    return httpx.Client(base_url=platform.oncall, timeout=10, headers=headers)


def _responder(admin: httpx.Client, platform: Platform, name: str) -> tuple[str, httpx.Client]:
    """A responder made by the admin, then signed in as themself (their own token)."""
    email = f"{name.lower()}@example.com"
    made = admin.post("/api/v1/users", json={"name": name, "email": email, "password": PASSWORD})
    assert made.status_code == 201, made.text
    own = login_token(platform.oncall, email, PASSWORD)
    return made.json()["id"], httpx.Client(base_url=platform.oncall, timeout=10, headers=own)


def _method(client: httpx.Client, user_id: str, type_: str, address: str) -> str:
    added = client.post(f"/api/v1/users/{user_id}/contact-methods", json={"type": type_, "address": address})
    assert added.status_code == 201, added.text
    return added.json()["id"]


def _rules_webhook_then_email(client: httpx.Client, user_id: str, webhook: str, email: str) -> None:
    """The responder's own rules: webhook at once, email after one minute, for both urgencies."""
    steps = [{"delay_minutes": 0, "contact_method_id": webhook}, {"delay_minutes": 1, "contact_method_id": email}]
    saved = client.put(f"/api/v1/users/{user_id}/notification-rules", json={"high": steps, "low": steps})
    assert saved.status_code == 200, saved.text
    assert [s["contact_method"]["type"] for s in saved.json()["high"]] == ["webhook", "email"]


def _paging_setup(admin: httpx.Client, service: str, user_ids: list[str]) -> None:
    """One level paging these people at once, escalating only after an hour."""
    targets = [{"type": "user", "id": user_id} for user_id in user_ids]
    policy = admin.post(
        "/api/v1/escalation-policies", json={"name": service, "levels": [{"delay_minutes": 60, "targets": targets}]}
    )
    assert policy.status_code == 201, policy.text
    made = admin.post("/api/v1/services", json={"name": service, "escalation_policy_id": policy.json()["id"]})
    assert made.status_code == 201, made.text
    assert made.json()["high_urgency_severities"] == ["critical", "high"]


def _open_incident(admin: httpx.Client, platform: Platform, service: str) -> str:
    with httpx.Client(base_url=platform.incidents, timeout=10, headers=admin.headers) as incidents:
        opened = incidents.post(
            "/api/v1/incidents", json={"title": "Checkout down", "service": service, "severity": "critical"}
        )
        assert opened.status_code == 201, opened.text
        return opened.json()["id"]


def test_rules_page_the_webhook_at_once_and_the_email_a_minute_later(platform):
    admin = _admin(platform)
    alice, as_alice = _responder(admin, platform, "Alice")
    phone = Phone()
    webhook = _method(as_alice, alice, "webhook", phone.url)
    email = _method(as_alice, alice, "email", "alice@example.com")
    _rules_webhook_then_email(as_alice, alice, webhook, email)
    # Another responder may not read or change Alice's rules.
    _, as_bob = _responder(admin, platform, "Bob")
    assert as_bob.get(f"/api/v1/users/{alice}/notification-rules").status_code == 403
    _paging_setup(admin, "checkout", [alice])

    started = time.monotonic()
    _open_incident(admin, platform, "checkout")
    wait_for(lambda: phone.events() == ["triggered"])
    assert platform.mailbox.to("alice@example.com") == []  # the email step waits its minute
    wait_for(lambda: platform.mailbox.to("alice@example.com"), timeout=30)
    # One minute of the incident clock is six seconds: not sent before about that.
    assert time.monotonic() - started >= 60 / SPEED * 0.8
    assert phone.events() == ["triggered"]  # the webhook was paged once


def test_an_acknowledgement_cancels_the_later_steps_and_tells_the_other_paged_responder(platform):
    admin = _admin(platform)
    alice, as_alice = _responder(admin, platform, "Alice")
    bob, as_bob = _responder(admin, platform, "Bob")
    alice_phone, bob_phone = Phone(), Phone()
    _rules_webhook_then_email(
        as_alice,
        alice,
        _method(as_alice, alice, "webhook", alice_phone.url),
        _method(as_alice, alice, "email", "alice@example.com"),
    )
    _method(as_bob, bob, "webhook", bob_phone.url)  # Bob has no rules: every method at once
    _paging_setup(admin, "payments", [alice, bob])

    incident_id = _open_incident(admin, platform, "payments")
    wait_for(lambda: alice_phone.events() == ["triggered"] and bob_phone.events() == ["triggered"])
    with httpx.Client(base_url=platform.incidents, timeout=10, headers=as_alice.headers) as incidents:
        acked = incidents.patch(f"/api/v1/incidents/{incident_id}", json={"status": "acknowledged"})
        assert acked.status_code == 200, acked.text
    # Bob, paged too, is told once; Alice, who acknowledged, is not.
    wait_for(lambda: bob_phone.events() == ["triggered", "acknowledged"])
    # Past Alice's one-minute email step (six seconds here, and more): it was cancelled.
    time.sleep(60 / SPEED * 1.5)
    assert platform.mailbox.to("alice@example.com") == []
    assert alice_phone.events() == ["triggered"]
    assert bob_phone.events() == ["triggered", "acknowledged"]


def test_a_shift_start_is_told_when_the_shift_begins(platform):
    admin = _admin(platform)
    carol, as_carol = _responder(admin, platform, "Carol")
    dave, as_dave = _responder(admin, platform, "Dave")
    carol_phone, dave_phone = Phone(), Phone()
    _method(as_carol, carol, "webhook", carol_phone.url)
    _method(as_dave, dave, "webhook", dave_phone.url)
    # An hourly rotation whose handoff is the next minute of the clock (two, when this one is nearly over).
    now = datetime.now(UTC)
    handoff = (now + timedelta(minutes=2 if now.second > 45 else 1)).replace(second=0, microsecond=0)
    layer = {
        "name": "hourly",
        "rotation_type": "hourly",
        "start_date": handoff.date().isoformat(),
        "handoff_time": handoff.strftime("%H:%M"),
        "members": [carol, dave],
    }
    made = admin.post("/api/v1/schedules", json={"name": "primary", "timezone": "UTC", "layers": [layer]})
    assert made.status_code == 201, made.text

    def told_of_handoff() -> list[dict[str, Any]]:
        bodies = carol_phone.bodies + dave_phone.bodies
        return [
            b for b in bodies if b["event"] == "shift_start" and f"from {handoff:%a %d %b %H:%M} UTC" in b["message"]
        ]

    notice = wait_for(told_of_handoff, timeout=150)
    assert datetime.now(UTC) >= handoff  # told when the shift began, not before
    assert "You are on call for primary" in notice[0]["message"]
    # Never twice: later cycles (every second) find the same shift start stored.
    time.sleep(3)
    assert len(told_of_handoff()) == 1


def test_a_page_to_someone_assigned_by_hand_follows_their_rules(platform):
    """Not chosen by on-call: the outbox looks Alice's rules up as the page goes out."""
    admin = _admin(platform)
    alice, as_alice = _responder(admin, platform, "Alice")
    phone = Phone()
    webhook = _method(as_alice, alice, "webhook", phone.url)
    email = _method(as_alice, alice, "email", "alice@example.com")
    _rules_webhook_then_email(as_alice, alice, webhook, email)

    started = time.monotonic()
    with httpx.Client(base_url=platform.incidents, timeout=10, headers=admin.headers) as incidents:
        body = {"title": "Disk full", "service": "storage", "severity": "critical", "assigned_to": alice}
        opened = incidents.post("/api/v1/incidents", json=body)
        assert opened.status_code == 201, opened.text
    wait_for(lambda: phone.events() == ["triggered"])
    assert platform.mailbox.to("alice@example.com") == []  # not every method at once: the email waits its minute
    wait_for(lambda: platform.mailbox.to("alice@example.com"), timeout=30)
    assert time.monotonic() - started >= 60 / SPEED * 0.8
    assert phone.events() == ["triggered"]
