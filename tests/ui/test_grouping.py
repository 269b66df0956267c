"""Grouping people can see and correct, in the browser: each alert says why it is
in its incident; two incidents merged from the detail page; an alert split out
into a new incident."""

import re
import uuid

import httpx
import pytest
from playwright.sync_api import expect

from .conftest import loaded, log_in, screenshot

pytestmark = pytest.mark.e2e


@pytest.fixture
def sender(ui_platform) -> str:
    """An integration key for a service of this test's own (the default correlation window, 5 min)."""
    service = f"search-{uuid.uuid4().hex[:6]}"
    with ui_platform.admin_api() as api:
        api.post("/api/v1/services", json={"name": service}).raise_for_status()
        created = api.post("/api/v1/integrations", json={"name": "grouping ui", "service": service, "type": "generic"})
        assert created.status_code == 201, created.text
        return created.json()["key"]


def alert(ui_platform, key: str, message: str, severity: str) -> str:
    sent = httpx.post(
        f"{ui_platform.url}/api/v1/alerts",
        json={"severity": severity, "message": message, "dedup_key": uuid.uuid4().hex},
        headers={"Authorization": f"Bearer {key}"},
        timeout=10,
    )
    assert sent.status_code == 202, sent.text
    return sent.json()["incident_id"]


def alert_item(page, message: str):
    """The alert whose own message is `message` (another's reason may quote it)."""
    return page.locator(".alert-item").filter(
        has=page.locator("strong", has_text=re.compile(f"^{re.escape(message)}$"))
    )


def test_reasons_merge_and_split_from_the_incident_page(page, ui_platform, sender):
    slo = alert(ui_platform, sender, "Search latency SLO burn", "high")
    assert alert(ui_platform, sender, "Disk 95% on db-02", "high") == slo  # same service and severity: grouped
    oom = alert(ui_platform, sender, "Checkout pods OOMKilled", "critical")
    assert oom != slo

    log_in(page, ui_platform.admin_email, ui_platform.admin_password)
    page.goto(f"/incidents/{slo}")
    loaded(page, page.get_by_role("heading", level=1, name="Search latency SLO burn"))
    # Each alert says why it is there.
    expect(alert_item(page, "Search latency SLO burn").locator(".reason")).to_have_text("Why here: first alert")
    expect(alert_item(page, "Disk 95% on db-02").locator(".reason")).to_have_text(
        'Why here: same service and severity within 5 min of "Search latency SLO burn"'
    )
    screenshot(page, "incident-grouping")

    # Merge the OOM incident into this one.
    page.get_by_label("Merge into this incident").select_option(oom)
    page.get_by_role("button", name="Merge", exact=True).click()
    expect(alert_item(page, "Checkout pods OOMKilled").locator(".reason")).to_contain_text(
        'merged from "Checkout pods OOMKilled" by'
    )
    expect(page.get_by_label("Timeline")).to_contain_text('Merged "Checkout pods OOMKilled" into this incident')
    with ui_platform.admin_api() as api:
        merged = api.get(f"/api/v1/incidents/{oom}").json()
    assert (merged["status"], merged["merged_into"], merged["alert_count"]) == ("resolved", slo, 0)

    # Split the disk alert out again: it gets an incident of its own.
    page.get_by_label("Choose alert: Disk 95% on db-02").check()
    page.get_by_role("button", name="Split out 1 alert").click()
    expect(page.get_by_role("status").filter(has_text="Split out into")).to_be_visible()
    expect(alert_item(page, "Disk 95% on db-02")).to_have_count(0)
    page.get_by_role("link", name="Disk 95% on db-02").click()
    loaded(page, page.get_by_role("heading", level=1, name="Disk 95% on db-02"))
    expect(page).to_have_url(re.compile(r"/incidents/[0-9a-f-]{36}$"))
    expect(alert_item(page, "Disk 95% on db-02").locator(".reason")).to_contain_text(
        'split out of "Search latency SLO burn" by'
    )
    expect(page.get_by_label("Timeline")).to_contain_text('Split out of "Search latency SLO burn"')
