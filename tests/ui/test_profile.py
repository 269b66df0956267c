"""A responder's own profile in the browser: they add their contact methods (and
get a test page), set their notification rules, change their time zone (times
then show in it, labelled) and their password, with no admin involved."""

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest
from playwright.sync_api import expect

from platform_testing import wait_for

from .conftest import loaded, log_in, screenshot, serious_accessibility_violations

pytestmark = pytest.mark.e2e
PASSWORD = "rita-first-password"
NEW_PASSWORD = "rita-second-password"


class _Receiver(BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self.server.received.append(json.loads(body or b"{}"))  # type: ignore[attr-defined]
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args) -> None:
        pass


@pytest.fixture
def receiver() -> Iterator[ThreadingHTTPServer]:
    """A webhook target on 127.0.0.1 recording the JSON it is sent."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Receiver)
    server.received = []  # type: ignore[attr-defined]
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server
    server.shutdown()
    server.server_close()


@pytest.fixture
def rita(ui_platform) -> dict:
    """A responder an admin made, with a password and nothing else."""
    with ui_platform.admin_api() as admin:
        made = admin.post(
            "/api/v1/users",
            json={"name": "Rita Profile", "email": "rita.profile@example.com", "password": PASSWORD, "timezone": "UTC"},
        )
        assert made.status_code in (201, 409), made.text
        if made.status_code == 409:  # a rerun on the same platform: start her again from scratch
            found = admin.get("/api/v1/users", params={"q": "rita.profile@example.com"}).json()["items"][0]
            admin.delete(f"/api/v1/users/{found['id']}")
            made = admin.post(
                "/api/v1/users",
                json={"name": "Rita Profile", "email": "rita.profile@example.com", "password": PASSWORD},
            )
        return made.json()


def test_a_responder_sets_up_how_they_are_paged_their_time_zone_and_password(page, ui_platform, receiver, rita):
    hook = f"http://127.0.0.1:{receiver.server_port}/rita"
    log_in(page, "rita.profile@example.com", PASSWORD)
    page.locator(".user-menu summary").click()
    page.get_by_role("menuitem", name="Profile").click()
    expect(page).to_have_url(f"{ui_platform.url}/profile")
    loaded(page, page.get_by_role("heading", name="Contact methods"))

    methods = page.get_by_role("form", name="New contact method")
    methods.get_by_label("Type").select_option("webhook")
    methods.get_by_label("Address").fill(hook)
    methods.get_by_role("button", name="Add").click()
    expect(page.get_by_role("button", name=f"Send a test page to {hook}")).to_be_visible()
    methods.get_by_label("Type").select_option("email")
    methods.get_by_label("Address").fill("rita.profile@example.com")
    methods.get_by_role("button", name="Add").click()
    expect(page.get_by_role("button", name="Remove rita.profile@example.com")).to_be_visible()

    page.get_by_role("button", name=f"Send a test page to {hook}").click()
    expect(page.get_by_text(f"Test page sent to {hook}.")).to_be_visible()
    wait_for(lambda: receiver.received)
    assert [b["event"] for b in receiver.received] == ["test"]
    assert "Rita Profile" in receiver.received[0]["message"]

    # Webhook at once, email after a minute, for high-urgency incidents.
    rules = page.get_by_role("form", name="Notification rules")
    rules.get_by_role("button", name="Add a high-urgency step").click()
    rules.get_by_role("button", name="Add a high-urgency step").click()
    rules.get_by_label("High urgency step 2: after minutes").fill("1")
    rules.get_by_label("High urgency step 2: contact method").select_option(label="email: rita.profile@example.com")
    rules.get_by_role("button", name="Save rules").click()
    expect(page.get_by_text("Notification rules saved.")).to_be_visible()
    with ui_platform.admin_api() as admin:
        saved = admin.get(f"/api/v1/users/{rita['id']}/notification-rules").json()
    assert [(s["delay_minutes"], s["contact_method"]["type"]) for s in saved["high"]] == [(0, "webhook"), (1, "email")]
    assert saved["low"] == []
    screenshot(page, "profile")

    zone = page.get_by_role("form", name="Time zone")
    zone.get_by_label("Time zone").fill("America/New_York")
    zone.get_by_role("button", name="Save time zone").click()
    expect(page.get_by_text("Times now show in America/New_York.")).to_be_visible()
    # Every time shown is now New York's, with its label: a token made now says so.
    page.goto("/tokens")
    page.get_by_label("Name").fill("laptop")
    page.get_by_role("button", name="Make a token").click()
    expect(page.get_by_role("row", name="laptop")).to_contain_text("EST")

    page.goto("/profile")
    password = page.get_by_role("form", name="Change password")
    password.get_by_label("Current password").fill(PASSWORD)
    password.get_by_label("New password", exact=True).fill(NEW_PASSWORD)
    password.get_by_label("New password again").fill(NEW_PASSWORD)
    password.get_by_role("button", name="Change password").click()
    expect(page.get_by_text("Password changed")).to_be_visible()
    login = httpx.post(
        f"{ui_platform.url}/api/v1/auth/login", json={"email": "rita.profile@example.com", "password": PASSWORD}
    )
    assert login.status_code == 401
    page.locator(".user-menu summary").click()
    page.get_by_role("menuitem", name="Log out").click()
    log_in(page, "rita.profile@example.com", NEW_PASSWORD)


def test_the_profile_page_has_no_serious_accessibility_violations(axe_page, ui_platform, rita):
    log_in(axe_page, "rita.profile@example.com", PASSWORD)
    axe_page.goto("/profile")
    loaded(axe_page, axe_page.get_by_role("heading", name="Password"))
    assert serious_accessibility_violations(axe_page) == []


def test_an_admin_manages_anyones_paging_profile(page, ui_platform, rita):
    log_in(page, ui_platform.admin_email, ui_platform.admin_password)
    page.goto(f"/profile?user={rita['id']}")
    loaded(page, page.get_by_role("heading", name="Profile of Rita Profile"))
    methods = page.get_by_role("form", name="New contact method")
    methods.get_by_label("Type").select_option("email")
    methods.get_by_label("Address").fill("rita.pager@example.com")
    methods.get_by_role("button", name="Add").click()
    expect(page.get_by_role("button", name="Remove rita.pager@example.com")).to_be_visible()
    # Her password is hers: an admin resets it in Setup, not here.
    expect(page.get_by_role("heading", name="Password")).to_have_count(0)
    with ui_platform.admin_api() as admin:
        theirs = admin.get(f"/api/v1/users/{rita['id']}").json()["contact_methods"]
    assert [m["address"] for m in theirs] == ["rita.pager@example.com"]
