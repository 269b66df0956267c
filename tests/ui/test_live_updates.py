"""Live updates in the browser: the incident list and detail reload when the
server says incidents changed (GET /api/v1/incidents/changes through nginx),
not on a timer; without the stream they poll every 5 s as before."""

import re
import time
import uuid

import httpx
import pytest
from playwright.sync_api import expect

from .conftest import loaded, log_in

pytestmark = pytest.mark.e2e

QUIET_MS = 12_000


@pytest.fixture(scope="module")
def sender(ui_platform):
    with ui_platform.admin_api() as api:
        created = api.post("/api/v1/integrations", json={"name": "live", "service": "checkout", "type": "generic"})
        assert created.status_code == 201, created.text
        return created.json()["key"]


def _alert(ui_platform, key: str) -> str:
    sent = httpx.post(
        f"{ui_platform.url}/api/v1/alerts",
        json={"severity": "high", "message": f"Live {uuid.uuid4().hex[:6]}", "dedup_key": uuid.uuid4().hex},
        headers={"Authorization": f"Bearer {key}"},
        timeout=10,
    )
    assert sent.status_code == 202, sent.text
    return sent.json()["incident_id"]


def _settled(ui_platform, incident_id: str) -> None:
    """Once the engine is done with a new incident (assignment, paging): its timeline stops growing."""
    with ui_platform.admin_api() as api:
        sizes: list[int] = []
        while len(sizes) < 4 or len(set(sizes[-4:])) > 1:
            assert len(sizes) < 30, f"the timeline kept changing: {sizes}"
            sizes.append(len(api.get(f"/api/v1/incidents/{incident_id}/timeline").json()))
            time.sleep(0.5)


def _reads(page) -> list[str]:
    """Every request the page makes for incident data (the stream itself aside), as it happens."""
    seen: list[str] = []
    incident_data = re.compile(r"/api/v1/incidents(/|\?|$)(?!changes)")
    page.on("request", lambda request: incident_data.search(request.url) and seen.append(request.url))
    return seen


def test_the_list_reloads_on_a_change_and_not_on_a_timer(page, ui_platform, sender):
    log_in(page, ui_platform.admin_email, ui_platform.admin_password)
    reads = _reads(page)
    with page.expect_response(re.compile(r"/api/v1/incidents/changes")) as stream:
        page.goto("/incidents")
    assert stream.value.status == 200
    loaded(page)
    page.wait_for_timeout(1000)
    reads.clear()
    page.wait_for_timeout(QUIET_MS)
    assert reads == [], "the list polled although nothing changed"

    incident_id = _alert(ui_platform, sender)
    # A second or two; more on a loaded machine.
    expect(page.locator(f'tr[data-incident="{incident_id}"]')).to_be_visible(timeout=10_000)
    # One reload (the list and the counts), not a reload per timeline entry of the new incident.
    assert len(reads) <= 4, reads


def test_the_detail_shows_another_responders_change_without_a_timer(page, ui_platform, sender):
    incident_id = _alert(ui_platform, sender)
    _settled(ui_platform, incident_id)
    log_in(page, ui_platform.admin_email, ui_platform.admin_password)
    reads = _reads(page)
    page.goto(f"/incidents/{incident_id}")
    loaded(page)
    page.wait_for_timeout(1000)
    reads.clear()
    page.wait_for_timeout(QUIET_MS)
    assert reads == [], "the detail polled although nothing changed"

    note = f"Rolled back the deploy ({uuid.uuid4().hex[:6]})"
    with ui_platform.admin_api() as api:
        added = api.post(f"/api/v1/incidents/{incident_id}/notes", json={"body": note})
        assert added.status_code == 201, added.text
    expect(page.get_by_text(note).first).to_be_visible(timeout=10_000)


def test_without_the_stream_the_list_polls_as_before(page, ui_platform, sender):
    # The server refuses the stream (as at its cap): the page falls back to polling every 5 s.
    page.route(
        "**/api/v1/incidents/changes",
        lambda route: route.fulfill(status=503, headers={"Retry-After": "30"}, json={"detail": "full"}),
    )
    log_in(page, ui_platform.admin_email, ui_platform.admin_password)
    reads = _reads(page)
    page.goto("/incidents")
    loaded(page)
    reads.clear()
    incident_id = _alert(ui_platform, sender)
    expect(page.locator(f'tr[data-incident="{incident_id}"]')).to_be_visible(timeout=8_000)
    page.wait_for_timeout(6000)  # over a polling interval, whatever brought the row
    assert reads, "the list did not poll"
