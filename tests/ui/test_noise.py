"""Finding and acting on many incidents, and quieting a service, in the browser: a
search by a label value finds its incident (and a search matching nothing says so,
not "all quiet"); three incidents ticked are acknowledged in one go; a maintenance
window is started from the UI and its service's alerts then open nothing."""

import re
import uuid

import httpx
import pytest
from playwright.sync_api import expect

from .conftest import loaded, log_in, screenshot, serious_accessibility_violations

pytestmark = pytest.mark.e2e


def _key(ui_platform, service: str) -> str:
    with ui_platform.admin_api() as api:
        made = api.post("/api/v1/integrations", json={"name": f"{service} ui", "service": service, "type": "generic"})
        assert made.status_code == 201, made.text
        return made.json()["key"]


def _alert(ui_platform, key: str, message: str, *, severity: str = "critical", labels: dict | None = None) -> dict:
    sent = httpx.post(
        f"{ui_platform.url}/api/v1/alerts",
        json={"severity": severity, "message": message, "dedup_key": uuid.uuid4().hex, "labels": labels or {}},
        headers={"Authorization": f"Bearer {key}"},
        timeout=10,
    )
    assert sent.status_code == 202, sent.text
    return sent.json()


def test_search_finds_an_incident_by_a_label_value(page, ui_platform):
    key = _key(ui_platform, "search-ui")
    cluster = f"kube-west-{uuid.uuid4().hex[:8]}"
    wanted = _alert(ui_platform, key, "Pods restarting", labels={"cluster": cluster})["incident_id"]
    _alert(ui_platform, key, "Pods restarting elsewhere", severity="low", labels={"cluster": "kube-east"})
    log_in(page, ui_platform.admin_email, ui_platform.admin_password)
    page.goto("/incidents")
    page.get_by_role("searchbox", name="Search").fill(cluster)
    page.get_by_role("searchbox", name="Search").press("Enter")
    expect(page).to_have_url(re.compile(f"q={cluster}"))
    expect(page.locator("tr[data-incident]")).to_have_count(1)
    expect(page.locator(f'tr[data-incident="{wanted}"]')).to_be_visible()
    screenshot(page, "incidents-search")
    page.get_by_role("searchbox", name="Search").fill("no-such-text-anywhere")
    page.get_by_role("searchbox", name="Search").press("Enter")
    expect(page.get_by_text("No incident matches these filters.")).to_be_visible()
    expect(page.get_by_text("All quiet")).to_have_count(0)


def test_three_ticked_incidents_are_acknowledged_at_once(page, ui_platform):
    key = _key(ui_platform, "bulk-ui")
    batch = uuid.uuid4().hex[:8]
    ids = [
        _alert(ui_platform, key, f"Batch {batch} {severity}", severity=severity)["incident_id"]
        for severity in ("critical", "high", "medium")
    ]
    assert len(set(ids)) == 3
    log_in(page, ui_platform.admin_email, ui_platform.admin_password)
    page.goto(f"/incidents?q={batch}")
    rows = page.locator("tr[data-incident]")
    expect(rows).to_have_count(3)
    page.get_by_role("checkbox", name="Select every incident on this page").check()
    expect(page.get_by_text("3 selected")).to_be_visible()
    page.get_by_role("button", name="Acknowledge selected").click()
    expect(page.get_by_text("3 acknowledged.")).to_be_visible()
    for incident_id in ids:
        expect(page.locator(f'tr[data-incident="{incident_id}"] .status')).to_have_text("acknowledged")
    screenshot(page, "incidents-bulk")


def test_a_maintenance_window_created_in_the_ui_silences_its_service(page, ui_platform):
    service = f"deploying-{uuid.uuid4().hex[:6]}"
    with ui_platform.admin_api() as api:
        assert api.post("/api/v1/services", json={"name": service}).status_code == 201
    key = _key(ui_platform, service)
    log_in(page, ui_platform.admin_email, ui_platform.admin_password)
    page.goto("/maintenance")
    form = page.get_by_role("form", name="New maintenance window")
    form.get_by_label("Services").select_option(service)
    form.get_by_label("Lasts").select_option("60")
    form.get_by_label("Why").fill("release 4.2")
    form.get_by_role("button", name="Start window").click()
    row = page.locator("tr[data-window]", has_text=service)
    expect(row).to_contain_text("active")
    expect(row).to_contain_text("release 4.2")
    screenshot(page, "maintenance")

    suppressed = _alert(ui_platform, key, "Disk 95% on db-02")
    assert suppressed["action"] == "suppressed" and suppressed["incident_id"] is None
    page.goto("/incidents")
    expect(page.get_by_role("status").filter(has_text="Maintenance window active")).to_contain_text(service)
    page.goto("/setup/services")  # the service says so too
    expect(page.get_by_role("row", name=re.compile(service))).to_contain_text("in maintenance until")

    page.goto("/maintenance")
    held = page.get_by_role("table", name=re.compile("^Alerts held back"))
    held_row = held.locator(f'tr[data-alert="{suppressed["alert_id"]}"]')
    expect(held_row).to_contain_text("Disk 95% on db-02")
    expect(held_row).to_contain_text(f"suppressed: maintenance window 'release 4.2' on {service} until")
    page.get_by_role("button", name=f"Remove the window for {service}").click()
    expect(page.locator("tr[data-window]", has_text=service)).to_have_count(0)
    assert _alert(ui_platform, key, "Disk 95% on db-02")["action"] == "created"


def test_an_admin_makes_a_heartbeat_and_its_ping_url_works(page, ui_platform):
    service = f"monitoring-{uuid.uuid4().hex[:6]}"
    with ui_platform.admin_api() as api:
        assert api.post("/api/v1/services", json={"name": service}).status_code == 201
    key = _key(ui_platform, service)
    log_in(page, ui_platform.admin_email, ui_platform.admin_password)
    page.goto("/setup/heartbeats")
    form = page.locator("form", has=page.get_by_role("heading", name="New heartbeat"))
    form.get_by_label("Heartbeat name").fill("prometheus-watchdog")
    form.get_by_label("Service").select_option(service)
    form.get_by_label("Late after (minutes)").fill("5")
    form.get_by_role("button", name="Create heartbeat").click()
    row = page.locator("tbody tr", has_text=service)
    expect(row).to_contain_text("waiting for its first ping")
    ping_url = row.locator("code").inner_text().strip()
    assert re.fullmatch(rf"{re.escape(ui_platform.url)}/api/v1/heartbeats/[0-9a-f-]+/ping", ping_url), ping_url
    pinged = httpx.post(ping_url, headers={"Authorization": f"Bearer {key}"}, timeout=10)
    assert pinged.status_code == 200, pinged.text
    page.reload()
    expect(page.locator("tbody tr", has_text=service)).to_contain_text("pinged")
    screenshot(page, "heartbeats")


def test_the_maintenance_and_heartbeat_pages_have_no_serious_accessibility_violations(axe_page, ui_platform):
    log_in(axe_page, ui_platform.admin_email, ui_platform.admin_password)
    for path, sign in (("/maintenance", "Start window"), ("/setup/heartbeats", "Create heartbeat")):
        axe_page.goto(path)
        loaded(axe_page, axe_page.get_by_role("button", name=sign))
        assert serious_accessibility_violations(axe_page) == [], path


def test_an_acknowledged_incident_is_snoozed_from_its_page(page, ui_platform):
    key = _key(ui_platform, f"snooze-{uuid.uuid4().hex[:6]}")
    incident_id = _alert(ui_platform, key, "Replica lag above 30 s")["incident_id"]
    log_in(page, ui_platform.admin_email, ui_platform.admin_password)
    page.goto(f"/incidents/{incident_id}")
    expect(page.get_by_role("button", name="Snooze")).to_have_count(0)  # only once acknowledged
    page.get_by_role("button", name="Acknowledge").click()
    expect(page.locator(".detail-head .status")).to_have_text("acknowledged")
    page.get_by_label("Snooze for").select_option("30")
    page.get_by_role("button", name="Snooze").click()
    expect(page.get_by_label("Summary")).to_contain_text("Snoozed until")
    expect(page.get_by_label("Timeline")).to_contain_text("Snoozed for 30 min")
