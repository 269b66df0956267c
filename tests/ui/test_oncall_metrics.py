"""The on-call page shows who is on call and takes an override; the metrics page
draws its charts; a person makes, uses and revokes an API token."""

import re
import uuid
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from playwright.sync_api import expect

from .conftest import loaded, log_in, screenshot, serious_accessibility_violations

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def rota(ui_platform):
    """Two people on a weekly schedule, a policy paging the schedule, a service using it."""
    tag = uuid.uuid4().hex[:6]
    with ui_platform.admin_api() as api:
        ids = []
        for name in ("Olu", "Pia"):
            made = api.post(
                "/api/v1/users", json={"name": f"{name} {tag}", "email": f"{name.lower()}-{tag}@example.com"}
            )
            assert made.status_code == 201, made.text
            ids.append(made.json()["id"])
        # A weekly rotation whose first shift began yesterday at the 09:00 handoff: the
        # first member is on call now, whatever the time of day (today's 09:00 may be ahead).
        yesterday = (datetime.now(UTC) - timedelta(days=1)).date().isoformat()
        layer = {"rotation_type": "weekly", "start_date": yesterday, "members": ids}
        schedule = api.post("/api/v1/schedules", json={"name": f"rota {tag}", "timezone": "UTC", "layers": [layer]})
        assert schedule.status_code == 201, schedule.text
        levels = [{"delay_minutes": 10, "targets": [{"type": "schedule", "id": schedule.json()["id"]}]}]
        policy = api.post("/api/v1/escalation-policies", json={"name": f"policy {tag}", "levels": levels})
        assert policy.status_code == 201, policy.text
        service = api.post(
            "/api/v1/services", json={"name": f"shop-{tag}", "escalation_policy_id": policy.json()["id"]}
        )
        assert service.status_code == 201, service.text
        on_call = api.get("/api/v1/oncall/current", params={"service": f"shop-{tag}"}).json()["primary"]["name"]
    other = next(n for n in (f"Olu {tag}", f"Pia {tag}") if n != on_call)
    return {"service": f"shop-{tag}", "on_call": on_call, "other": other, "schedule": f"rota {tag}"}


def _local(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M")


def test_the_on_call_page_shows_who_is_on_call_and_an_override_changes_it(page, ui_platform, rota):
    log_in(page, ui_platform.admin_email, ui_platform.admin_password)
    page.goto("/oncall")
    card = page.locator(".oncall-card", has_text=f"Service {rota['service']}")
    expect(card.get_by_test_id("primary")).to_have_text(rota["on_call"])
    page.get_by_role("combobox", name=re.compile("^Schedule")).select_option(label=rota["schedule"])
    expect(page.locator(".schedule-timeline .shift-layer").first).to_be_visible()
    form = page.get_by_role("form", name="New override")
    form.get_by_role("combobox", name=re.compile("^Who")).select_option(label=rota["other"])
    now = datetime.now()
    form.get_by_label("From").fill(_local(now - timedelta(minutes=5)))
    form.get_by_label("Until").fill(_local(now + timedelta(hours=2)))
    form.get_by_role("button", name="Add override").click()
    expect(page.get_by_role("status")).to_have_text("Override saved.")
    expect(page.locator(".schedule-timeline .shift-override").first).to_be_visible()
    page.reload()
    expect(page.locator(".oncall-card", has_text=f"Service {rota['service']}").get_by_test_id("primary")).to_have_text(
        rota["other"]
    )
    screenshot(page, "oncall")


def test_the_metrics_page_draws_its_charts(page, ui_platform):
    with ui_platform.admin_api() as api:
        for n in range(2):
            made = api.post(
                "/api/v1/incidents", json={"title": f"metrics {n}", "service": "metrics", "severity": "high"}
            )
            assert made.status_code == 201, made.text
            api.patch(f"/api/v1/incidents/{made.json()['id']}", json={"status": "resolved"}).raise_for_status()
    log_in(page, ui_platform.admin_email, ui_platform.admin_password)
    page.goto("/metrics")
    # Time to acknowledge and resolve, incidents per day, and both times split by severity.
    expect(page.locator("figure.chart canvas")).to_have_count(4)
    expect(page.locator("figure.chart").first).to_contain_text("MTTA")
    expect(page.locator("figure.chart", has_text="by severity").first).to_contain_text("critical")
    screenshot(page, "metrics")
    page.goto("/metrics?service=metrics")  # a shared link; `metrics` is no configured service
    expect(page.get_by_label("Service")).to_have_value("metrics")
    page.get_by_label("Severity").select_option("high")
    expect(page).to_have_url(re.compile(r"service=metrics.*severity=high|severity=high.*service=metrics"))
    expect(page.locator("figure.chart canvas")).to_have_count(2)
    expect(page.locator("figure.chart").first).to_contain_text("metrics, high")
    page.reload()  # the view is in the URL
    expect(page.locator("figure.chart").first).to_contain_text("metrics, high")


def test_a_token_is_shown_once_works_and_is_revoked(page, ui_platform):
    log_in(page, ui_platform.admin_email, ui_platform.admin_password)
    page.goto("/tokens")
    page.get_by_label("Name").fill("laptop script")
    page.get_by_role("button", name="Make a token").click()
    secret = page.get_by_test_id("new-token").inner_text().strip()
    assert secret.startswith("ipt_")
    me = httpx.get(f"{ui_platform.url}/api/v1/auth/me", headers={"Authorization": f"Bearer {secret}"}, timeout=10)
    assert me.status_code == 200 and me.json()["email"] == ui_platform.admin_email
    screenshot(page, "tokens")
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Revoke laptop script").first.click()
    expect(page.get_by_role("button", name="Revoke laptop script")).to_have_count(0)
    refused = httpx.get(f"{ui_platform.url}/api/v1/auth/me", headers={"Authorization": f"Bearer {secret}"}, timeout=10)
    assert refused.status_code == 401


def test_the_on_call_and_metrics_pages_have_no_serious_accessibility_violations(axe_page, ui_platform, rota):
    log_in(axe_page, ui_platform.admin_email, ui_platform.admin_password)
    # What each page shows once its data is in: who is on call, the charts drawn, the token form.
    shown = {
        "/oncall": lambda: axe_page.get_by_text(rota["on_call"]).first,
        "/metrics": lambda: axe_page.locator("figure.chart canvas").first,
        "/tokens": lambda: axe_page.get_by_role("button", name="Make a token"),
    }
    for path, sign in shown.items():
        axe_page.goto(path)
        loaded(axe_page, sign())
        assert serious_accessibility_violations(axe_page) == [], path
