"""A responder's night in the browser: an alert shows up in the list by itself,
is acknowledged and resolved there, gets a note; a change someone made first is
said plainly; a viewer sees no buttons; a page's one-click link acts once."""

import re
import uuid
from datetime import timedelta

import httpx
import pytest
from playwright.sync_api import expect

from incident_management.domain.links import LinkSigner

from .conftest import loaded, log_in, screenshot, serious_accessibility_violations

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def sender(ui_platform):
    """An integration key for the service `checkout`, made by the admin."""
    with ui_platform.admin_api() as api:
        created = api.post("/api/v1/integrations", json={"name": "ui tests", "service": "checkout", "type": "generic"})
        assert created.status_code == 201, created.text
        return created.json()["key"]


def _alert(ui_platform, key: str, message: str, severity: str = "critical") -> str:
    sent = httpx.post(
        f"{ui_platform.url}/api/v1/alerts",
        json={"severity": severity, "message": message, "dedup_key": uuid.uuid4().hex},
        headers={"Authorization": f"Bearer {key}"},
        timeout=10,
    )
    assert sent.status_code == 202, sent.text
    return sent.json()["incident_id"]


def _user(ui_platform, name: str, role: str) -> tuple[str, str, str]:
    email, password = f"{name.lower()}-{uuid.uuid4().hex[:6]}@example.com", "a-long-enough-password"
    with ui_platform.admin_api() as api:
        made = api.post("/api/v1/users", json={"name": name, "email": email, "role": role, "password": password})
        assert made.status_code == 201, made.text
    return made.json()["id"], email, password


def test_an_alert_appears_by_itself_and_is_acknowledged_and_resolved_from_the_list(page, ui_platform, sender):
    log_in(page, ui_platform.admin_email, ui_platform.admin_password)
    page.goto("/incidents")
    message = f"Checkout 5xx above 5% ({uuid.uuid4().hex[:6]})"
    incident_id = _alert(ui_platform, sender, message)
    row = page.locator(f'tr[data-incident="{incident_id}"]')
    expect(row).to_be_visible(timeout=15_000)  # no reload: the list refreshes itself
    expect(row.locator(".sev")).to_have_text("critical")
    screenshot(page, "incidents")
    row.get_by_role("button", name=re.compile("^Acknowledge")).click()
    expect(row.locator(".status")).to_have_text("acknowledged")
    row.get_by_role("button", name=re.compile("^Resolve")).click()
    expect(row).to_be_hidden()  # the default view lists what is not resolved
    page.get_by_role("combobox", name=re.compile("^Status")).select_option("resolved")
    expect(page).to_have_url(re.compile(r"status=resolved"))
    expect(page.locator(f'tr[data-incident="{incident_id}"] .status')).to_have_text("resolved")


def test_the_detail_page_takes_a_note_and_says_when_someone_acted_first(page, ui_platform, sender):
    incident_id = _alert(ui_platform, sender, f"Payments latency ({uuid.uuid4().hex[:6]})", severity="high")
    log_in(page, ui_platform.admin_email, ui_platform.admin_password)
    page.goto(f"/incidents/{incident_id}")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Payments latency")
    page.get_by_label("Add a note").fill("Rolled back the 14:02 deploy.")
    page.get_by_role("button", name="Add note").click()
    expect(page.get_by_label("Notes")).to_contain_text("Rolled back the 14:02 deploy.")
    screenshot(page, "incident-detail")
    # Someone else acknowledges while the page shows the incident as open.
    with ui_platform.admin_api() as api:
        api.patch(f"/api/v1/incidents/{incident_id}", json={"status": "acknowledged"}).raise_for_status()
    page.get_by_role("button", name="Acknowledge").click()
    expect(page.get_by_role("alert")).to_contain_text("Someone else changed “Payments latency")
    expect(page.locator(".detail-head .status")).to_have_text("acknowledged")  # and the view caught up
    expect(page.get_by_role("button", name="Acknowledge")).to_have_count(0)


def test_a_grafana_alert_shows_its_details_links_and_snapshot_and_work_starts_after_acknowledging(page, ui_platform):
    # A service of its own: alerts of one service close together fold into one incident.
    with ui_platform.admin_api() as api:
        made = api.post("/api/v1/integrations", json={"name": "grafana ui", "service": "storefront", "type": "grafana"})
        assert made.status_code == 201, made.text
    grafana = "https://grafana.example.com"
    body = {
        "receiver": "incident-platform",
        "status": "firing",
        "title": "[FIRING:1] CheckoutLatency",
        "alerts": [
            {
                "status": "firing",
                "labels": {"alertname": "CheckoutLatency", "severity": "high", "team": "payments"},
                "annotations": {"summary": f"Checkout p99 above 2 s ({uuid.uuid4().hex[:6]})", "runbook": "restart"},
                "startsAt": "2026-12-04T10:00:00Z",
                "generatorURL": f"{grafana}/alerting/grafana/abc/view",
                "dashboardURL": f"{grafana}/d/checkout",
                "panelURL": f"{grafana}/d/checkout?viewPanel=2",
                "silenceURL": f"{grafana}/alerting/silence/new",
                "imageURL": f"{grafana}/render/checkout.png",
                "fingerprint": uuid.uuid4().hex[:16],
            }
        ],
    }
    sent = httpx.post(
        f"{ui_platform.url}/api/v1/webhooks/grafana",
        json=body,
        headers={"Authorization": f"Bearer {made.json()['key']}"},
        timeout=10,
    )
    assert sent.status_code == 202, sent.text
    incident_id = sent.json()["alerts"][0]["incident_id"]
    rita_id, _, _ = _user(ui_platform, "Rita", "responder")
    log_in(page, ui_platform.admin_email, ui_platform.admin_password)
    page.goto(f"/incidents/{incident_id}")
    alert = page.locator(".alert-item")
    expect(alert).to_contain_text("runbook")  # the annotations, as the alert's details
    for text, href in (("Source", "/alerting/grafana/abc/view"), ("Dashboard", "/d/checkout"), ("Silence", "/silence")):
        expect(alert.get_by_role("link", name=text)).to_have_attribute("href", re.compile(re.escape(href)))
    expect(alert.locator("img")).to_have_attribute("src", f"{grafana}/render/checkout.png")
    # Work starts once someone has acknowledged: the state machine's rule, offered as it says.
    expect(page.get_by_role("button", name="Start work")).to_have_count(0)
    page.get_by_role("button", name="Acknowledge").click()
    expect(page.locator(".detail-head .status")).to_have_text("acknowledged")
    page.get_by_role("button", name="Start work").click()
    expect(page.locator(".detail-head .status")).to_have_text("in progress")
    # Reassigning takes a choice and a click, not a slip of the select.
    page.get_by_label("Reassign to").select_option(rita_id)
    expect(page.locator(".facts")).not_to_contain_text("Rita")
    page.get_by_role("button", name="Reassign").click()
    expect(page.locator(".facts")).to_contain_text("Rita")
    expect(page.get_by_label("Timeline")).to_contain_text("Rita")


def test_an_alerts_images_and_links_link_only_to_web_pages(page, ui_platform):
    """A PagerDuty event's `images[].href` and `links[].href` are the sender's text:
    a `javascript:` one is not rendered as a link (the CSP would block it, the UI
    does not rely on that); the image then links to itself."""
    with ui_platform.admin_api() as api:
        made = api.post("/api/v1/integrations", json={"name": "pd ui", "service": "imagery", "type": "pagerduty"})
        assert made.status_code == 201, made.text
    summary = f"Disk 97% full ({uuid.uuid4().hex[:6]})"
    snapshot, dashboard = "https://grafana.example.com/render/disk.png", "https://grafana.example.com/d/disk"
    event = {
        "routing_key": made.json()["key"],
        "event_action": "trigger",
        "payload": {"summary": summary, "source": "db-1", "severity": "critical"},
        "images": [
            {"src": snapshot, "href": "javascript:alert(document.cookie)", "alt": "sneaky image"},
            {"src": f"{snapshot}?panel=2", "href": dashboard, "alt": "dashboard image"},
        ],
        "links": [{"href": "javascript:alert(1)", "text": "sneaky link"}, {"href": dashboard, "text": "Dashboard"}],
    }
    sent = httpx.post(f"{ui_platform.url}/v2/enqueue", json=event, timeout=10)
    assert sent.status_code == 202, sent.text
    with ui_platform.admin_api() as api:
        [incident] = api.get("/api/v1/incidents", params={"service": "imagery"}).json()["items"]
    log_in(page, ui_platform.admin_email, ui_platform.admin_password)
    page.goto(f"/incidents/{incident['id']}")
    alert = page.locator(".alert-item")
    expect(alert.get_by_role("link", name="Dashboard", exact=True)).to_have_attribute("href", dashboard)
    expect(alert.get_by_role("link", name="dashboard image")).to_have_attribute("href", dashboard)
    expect(alert.get_by_role("link", name="sneaky image")).to_have_attribute("href", snapshot)
    expect(alert.get_by_role("link", name="sneaky link")).to_have_count(0)
    expect(page.locator('a[href^="javascript:" i]')).to_have_count(0)


def test_a_viewer_sees_no_action_buttons(page, ui_platform, sender):
    incident_id = _alert(ui_platform, sender, f"Search slow ({uuid.uuid4().hex[:6]})", severity="low")
    _, email, password = _user(ui_platform, "Vera", "viewer")
    log_in(page, email, password)
    page.goto("/incidents")
    expect(page.locator(f'tr[data-incident="{incident_id}"]')).to_be_visible()
    expect(page.get_by_role("button", name=re.compile("^(Acknowledge|Resolve)"))).to_have_count(0)
    page.goto(f"/incidents/{incident_id}")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Search slow")
    for name in ("Acknowledge", "Start work", "Resolve", "Add note"):
        expect(page.get_by_role("button", name=name)).to_have_count(0)


def test_a_pages_one_click_link_confirms_then_acts_once(page, ui_platform, sender):
    incident_id = _alert(ui_platform, sender, f"Disk full on db-2 ({uuid.uuid4().hex[:6]})")
    rita_id, _, _ = _user(ui_platform, "Rita", "responder")
    signer = LinkSigner(ui_platform.secrets["LINK_SIGNING_KEY"], ttl=timedelta(hours=24))
    token = signer.make(
        incident_id=uuid.UUID(incident_id), user_id=uuid.UUID(rita_id), user_name="Rita", action="acknowledge"
    )
    page.goto(f"/act/{token}")  # no login: the link is the credential
    expect(page.get_by_text("Acknowledge this incident as Rita?")).to_be_visible()
    screenshot(page, "act")
    page.get_by_role("button", name="Acknowledge").click()
    expect(page.get_by_role("status")).to_contain_text("is now acknowledged")
    # Spent, the link says so, by whom and when, and shows nothing of the incident.
    page.goto(f"/act/{token}")
    expect(page.get_by_role("alert")).to_contain_text("This link was used already")
    expect(page.get_by_role("alert")).to_contain_text("It acted as Rita")
    expect(page.get_by_text("Disk full on db-2")).to_have_count(0)
    screenshot(page, "act-used")


def test_the_list_and_detail_pages_have_no_serious_accessibility_violations(axe_page, ui_platform, sender):
    title = f"Queue backlog ({uuid.uuid4().hex[:6]})"
    incident_id = _alert(ui_platform, sender, title, severity="medium")
    log_in(axe_page, ui_platform.admin_email, ui_platform.admin_password)
    for path in ("/incidents", f"/incidents/{incident_id}"):
        axe_page.goto(path)
        # Checked as the page is once its data is in, not as it happens to be after a while.
        loaded(axe_page, axe_page.get_by_text(title).first)
        assert serious_accessibility_violations(axe_page) == [], path
