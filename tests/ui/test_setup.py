"""Setup in the browser: an admin creates a user (with a webhook), a schedule, an
escalation policy, a service and an integration key through the UI, and an alert
sent with that key pages the new user's webhook. Validation messages from the API
appear beside their fields; a responder sees only "admins only"."""

import json
import re
import threading
import time
import uuid
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest
from playwright.sync_api import expect

from .conftest import DESKTOP, PHONE, log_in, screenshot, serious_accessibility_violations

pytestmark = pytest.mark.e2e


class _Receiver(BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        try:
            parsed = json.loads(body or b"{}")
        except ValueError:
            parsed = {"raw": body.decode(errors="replace")}
        self.server.received.append({"path": self.path, "body": parsed})  # type: ignore[attr-defined]
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args) -> None:
        pass


@pytest.fixture
def receiver() -> Iterator[ThreadingHTTPServer]:
    """A webhook target on 127.0.0.1 recording the POSTs it gets (local runs page loopback)."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Receiver)
    server.received = []  # type: ignore[attr-defined]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def _field(form, label: str):
    """An input's field in a form: its label, the input and the API's message for it."""
    return form.locator("div.field", has=form.page.get_by_label(label, exact=True))


def test_an_admin_sets_up_paging_in_the_ui_and_an_alert_pages_the_new_users_webhook(page, ui_platform, receiver):
    tag = uuid.uuid4().hex[:6]
    name, email = f"Pager {tag}", f"pager-{tag}@example.com"
    schedule, policy, service, key_name = f"Primary {tag}", f"Policy {tag}", f"checkout-{tag}", f"Key {tag}"
    hook = f"http://127.0.0.1:{receiver.server_address[1]}/hook-{tag}"

    log_in(page, ui_platform.admin_email, ui_platform.admin_password)
    page.get_by_role("link", name="Setup").click()
    expect(page).to_have_url(re.compile(r"/setup/users$"))
    form = page.locator("form", has=page.get_by_role("heading", name="New user"))

    # The API's validation messages, beside their fields and summed up under the form.
    form.get_by_label("Name", exact=True).fill(name)
    form.get_by_label("Email", exact=True).fill("not-an-email")
    form.get_by_label("Password", exact=True).fill("short")
    form.get_by_role("button", name="Create user").click()
    expect(_field(form, "Password").locator(".field-error")).to_contain_text("at least")
    expect(_field(form, "Email").locator(".field-error")).to_be_visible()
    expect(form.get_by_role("alert")).to_contain_text("Not saved")

    form.get_by_label("Email", exact=True).fill(email)
    form.get_by_label("Password", exact=True).fill("a-long-enough-password")
    form.get_by_role("button", name="Add contact method").click()
    form.get_by_label("Contact 1 type").select_option("webhook")
    form.get_by_label("Contact 1 address").fill(hook)
    form.get_by_role("button", name="Create user").click()
    row = page.locator("tbody tr", has_text=email)
    expect(row).to_contain_text("webhook:")
    expect(form.locator(".field-error")).to_have_count(0)
    screenshot(page, "setup-users")
    row.get_by_role("button", name=f"Edit {name}").click()  # an edit keeps the contact methods
    edit = page.locator("form", has=page.get_by_role("heading", name=f"Edit {name}"))
    expect(edit.get_by_label("Contact 1 address")).to_have_value(hook)
    edit.get_by_label("Time zone").fill("Europe/Berlin")
    edit.get_by_role("button", name="Save user").click()
    expect(row).to_contain_text("Europe/Berlin")
    expect(row).to_contain_text(hook)

    page.get_by_role("navigation", name="Setup sections").get_by_role("link", name="Schedules").click()
    form = page.locator("form", has=page.get_by_role("heading", name="New schedule"))
    form.get_by_label("Schedule name").fill(schedule)
    form.get_by_label("Time zone").fill("UTC")
    form.get_by_label("Layer 1 start date").fill("2024-01-01")  # a shift is running now
    form.get_by_label("Add to layer 1").select_option(label=f"{name} ({email})")
    form.get_by_role("button", name="Add to rotation").click()
    form.get_by_role("button", name="Create schedule").click()
    expect(page.locator("tbody tr", has_text=schedule)).to_contain_text(name)
    screenshot(page, "setup-schedules")

    page.get_by_role("link", name="Escalation policies").click()
    form = page.locator("form", has=page.get_by_role("heading", name="New escalation policy"))
    form.get_by_label("Policy name").fill(policy)
    form.get_by_label("Level 1 delay (minutes)").fill("5")
    form.get_by_label("Add a target to level 1").select_option(label=schedule)
    form.get_by_role("button", name="Add target").click()
    form.get_by_role("button", name="Create policy").click()
    expect(page.locator("tbody tr", has_text=policy)).to_contain_text(f"{schedule} (schedule)")

    page.get_by_role("link", name="Services").click()
    form = page.locator("form", has=page.get_by_role("heading", name="New service"))
    form.get_by_label("Service name").fill(service)
    form.get_by_label("Escalation policy").select_option(label=policy)
    form.get_by_role("button", name="Create service").click()
    expect(page.locator("tbody tr", has_text=service)).to_contain_text(policy)

    page.get_by_role("link", name="Integration keys").click()
    form = page.locator("form", has=page.get_by_role("heading", name="New integration key"))
    form.get_by_label("Key name").fill(key_name)
    form.get_by_label("Service").select_option(service)
    form.get_by_label("Sender").select_option("generic")
    form.get_by_role("button", name="Create key").click()
    key = page.locator("#new-key").inner_text().strip()
    assert key
    shown = page.locator(".new-key")
    expect(shown).to_contain_text(f"routing_key: {key}")
    expect(shown).to_contain_text(f"url: {ui_platform.url}/v2/enqueue")
    expect(shown).to_contain_text(f"url: {ui_platform.url}/api/v1/webhooks/alertmanager")
    expect(shown).to_contain_text(f"credentials: {key}")
    expect(shown).to_contain_text(f"{ui_platform.url}/api/v1/webhooks/grafana")
    expect(shown).to_contain_text(f"Authorization: Bearer {key}")
    listed = page.locator("tbody tr", has_text=key_name)
    expect(listed).to_contain_text(service)
    assert key not in listed.inner_text()  # the list never shows the key itself
    screenshot(page, "setup-integrations")

    answer = httpx.post(
        f"{ui_platform.url}/api/v1/alerts",
        headers={"Authorization": f"Bearer {key}"},
        json={"severity": "critical", "message": f"checkout is down {tag}"},
        timeout=10,
    )
    assert answer.status_code == 202, answer.text
    deadline = time.monotonic() + 20
    while not any(r["path"] == f"/hook-{tag}" for r in receiver.received):
        assert time.monotonic() < deadline, f"no page reached the webhook; got {receiver.received}"
        time.sleep(0.2)
    paged = json.dumps([r["body"] for r in receiver.received])
    assert tag in paged  # the page is about this alert


def test_a_key_is_revoked_after_confirming(page, ui_platform):
    admin = ui_platform.admin_api()
    tag = uuid.uuid4().hex[:6]
    admin.post("/api/v1/services", json={"name": f"revoke-{tag}"}).raise_for_status()
    admin.post("/api/v1/integrations", json={"name": f"Old key {tag}", "service": f"revoke-{tag}"}).raise_for_status()
    log_in(page, ui_platform.admin_email, ui_platform.admin_password)
    page.goto("/setup/integrations")
    row = page.locator("tbody tr", has_text=f"Old key {tag}")
    row.get_by_role("button", name="Revoke").click()
    row.get_by_role("button", name="Cancel").click()  # asked first: nothing happens without a yes
    expect(row.get_by_role("button", name="Revoke")).to_be_visible()
    row.get_by_role("button", name="Revoke").click()
    row.get_by_role("button", name="Yes, revoke").click()
    expect(page.get_by_role("status").filter(has_text=f"Old key {tag} revoked")).to_be_visible()
    expect(page.locator("tbody tr", has_text=f"Old key {tag}")).to_have_count(0)
    listed = admin.get("/api/v1/integrations", params={"include_revoked": True, "limit": 200}).json()["items"]
    (revoked,) = [i for i in listed if i["name"] == f"Old key {tag}"]
    assert revoked["revoked_at"] is not None


def test_a_responder_sees_admins_only(page, ui_platform):
    tag = uuid.uuid4().hex[:6]
    email, password = f"responder-{tag}@example.com", "responder-password-1"
    with ui_platform.admin_api() as admin:
        made = admin.post(
            "/api/v1/users",
            json={"name": f"Responder {tag}", "email": email, "role": "responder", "password": password},
        )
        assert made.status_code == 201, made.text
    log_in(page, email, password)
    expect(page.get_by_role("link", name="Setup")).to_have_count(0)
    page.goto("/setup/users")
    expect(page.get_by_text("admins only")).to_be_visible()
    expect(page.get_by_role("heading", name="New user")).to_have_count(0)


SECTIONS = {
    "users": "New user",
    "teams": "New team",
    "schedules": "New schedule",
    "policies": "New escalation policy",
    "services": "New service",
    "integrations": "New integration key",
}


def test_every_setup_section_has_no_serious_accessibility_violations_at_either_width(axe_page, ui_platform):
    log_in(axe_page, ui_platform.admin_email, ui_platform.admin_password)
    for section, heading in SECTIONS.items():
        axe_page.goto(f"/setup/{section}")
        axe_page.get_by_role("heading", name=heading).wait_for()
        expect(axe_page.locator(".state.loading")).to_have_count(0)
        for viewport in (DESKTOP, PHONE):
            axe_page.set_viewport_size(viewport)
            assert serious_accessibility_violations(axe_page) == [], (section, viewport)
        if section in ("teams", "policies", "services"):  # the others are taken mid-flow above
            screenshot(axe_page, f"setup-{section}")


def test_a_long_list_pages_through_the_api(page, ui_platform):
    tag = uuid.uuid4().hex[:6]
    with ui_platform.admin_api() as admin:
        for n in range(201):
            admin.post("/api/v1/teams", json={"name": f"Team {tag} {n:03}"}).raise_for_status()
        total = admin.get("/api/v1/teams", params={"limit": 1}).json()["total"]
    log_in(page, ui_platform.admin_email, ui_platform.admin_password)
    page.goto("/setup/teams")
    pager = page.get_by_role("navigation", name="Pages of teams")
    expect(pager).to_contain_text(f"1\u2013200 of {total}")
    expect(page.locator("tbody tr")).to_have_count(200)
    pager.get_by_role("button", name="Next").click()
    expect(pager).to_contain_text(f"201\u2013{total} of {total}")
    expect(page.locator("tbody tr")).to_have_count(total - 200)
    pager.get_by_role("button", name="Previous").click()
    expect(page.locator("tbody tr")).to_have_count(200)
    # A picker offers every team, not the first page of them.
    page.goto("/setup/services")
    picker = page.locator("form").get_by_label("Team")
    expect(picker.locator("option", has_text=f"Team {tag} 200")).to_have_count(1)
    expect(picker.locator("option", has_text=f"Team {tag} 000")).to_have_count(1)
    assert picker.locator("option").count() >= total  # and a "no team" choice
