"""On call that people can live with, in the browser through nginx: an override is
listed with who made it, changed and deleted, and the "Now" panel (every
service's chain in one request) follows each change without a reload; a shift
on the timeline opens the override form filled in; the reassign picker offers no
viewer; the timeline names people; "Escalate now" pages the next level."""

import re
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from playwright.sync_api import expect

from .conftest import log_in, screenshot

pytestmark = pytest.mark.e2e

PASSWORD = "a-long-enough-password"


def _local(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M")


@pytest.fixture(scope="module")
def team(ui_platform):
    """Two responders on a weekly rota paging a service, a responder off the rota who
    covers, and a viewer; a two-level policy (rota, then the cover person)."""
    tag = uuid.uuid4().hex[:6]
    people = {}
    with ui_platform.admin_api() as api:
        for name, role in (("Uma", "responder"), ("Vic", "responder"), ("Wes", "responder"), ("Xia", "viewer")):
            email = f"{name.lower()}-{tag}@example.com"
            made = api.post(
                "/api/v1/users",
                json={"name": f"{name} {tag}", "email": email, "role": role, "password": PASSWORD},
            )
            assert made.status_code == 201, made.text
            people[name] = {"id": made.json()["id"], "name": f"{name} {tag}", "email": email}
        yesterday = (datetime.now(UTC) - timedelta(days=1)).date().isoformat()
        layer = {"rotation_type": "weekly", "start_date": yesterday, "members": [people["Uma"]["id"]]}
        schedule = api.post("/api/v1/schedules", json={"name": f"cover {tag}", "timezone": "UTC", "layers": [layer]})
        assert schedule.status_code == 201, schedule.text
        levels = [
            {"delay_minutes": 30, "targets": [{"type": "schedule", "id": schedule.json()["id"]}]},
            {"delay_minutes": 30, "targets": [{"type": "user", "id": people["Vic"]["id"]}]},
        ]
        policy = api.post("/api/v1/escalation-policies", json={"name": f"cover policy {tag}", "levels": levels})
        assert policy.status_code == 201, policy.text
        service = api.post(
            "/api/v1/services", json={"name": f"cover-{tag}", "escalation_policy_id": policy.json()["id"]}
        )
        assert service.status_code == 201, service.text
        # A second service on the policy: the "Now" panel still asks once for both.
        spare = api.post("/api/v1/services", json={"name": f"spare-{tag}", "escalation_policy_id": policy.json()["id"]})
        assert spare.status_code == 201, spare.text
    return {"tag": tag, "people": people, "service": f"cover-{tag}", "schedule": f"cover {tag}"}


def _primary(page, service: str):
    return page.locator(".oncall-card", has_text=f"Service {service}").get_by_test_id("primary")


def test_an_override_is_listed_changed_and_deleted_and_now_follows_without_a_reload(page, ui_platform, team):
    wes = team["people"]["Wes"]
    log_in(page, ui_platform.admin_email, ui_platform.admin_password)
    asked: list[str] = []
    page.on("request", lambda request: "/api/v1/oncall/" in request.url and asked.append(request.url))
    page.goto("/oncall")
    expect(_primary(page, team["service"])).to_have_text(team["people"]["Uma"]["name"])
    expect(_primary(page, f"spare-{team['tag']}")).to_have_text(team["people"]["Uma"]["name"])
    # Every service's chain came in one request, not one per service.
    assert [re.sub(r"\?.*", "", url.split("/api/v1/oncall/")[1]) for url in asked] == ["services"], asked
    chain = page.get_by_role("list", name=f"Escalation chain of {team['service']}")
    expect(chain.locator("li").first).to_have_text(re.compile(r"^at once: "))
    expect(chain.locator("li").nth(1)).to_have_text(re.compile(r"^after 30 min: "))
    page.get_by_role("combobox", name=re.compile("^Schedule")).select_option(label=team["schedule"])

    form = page.get_by_role("form", name="New override")
    form.get_by_role("combobox", name=re.compile("^Who")).select_option(label=wes["name"])
    now = datetime.now()
    form.get_by_label("From").fill(_local(now - timedelta(minutes=5)))
    form.get_by_label("Until").fill(_local(now + timedelta(hours=2)))
    form.get_by_role("button", name="Add override").click()
    expect(page.get_by_role("status")).to_have_text("Override saved.")
    # No reload: the "Now" panel asked again.
    expect(_primary(page, team["service"])).to_have_text(wes["name"])
    table = page.get_by_role("table", name="Overrides")
    row = table.locator("tbody tr", has_text=wes["name"])
    expect(row).to_have_count(1)
    expect(row).not_to_contain_text("the platform")  # who made it: the signed-in admin
    # The override's bar is wide enough to see and to hit, however short the override.
    bar = page.locator(".schedule-timeline .shift-override").first
    expect(bar).to_be_visible()
    assert bar.bounding_box()["width"] >= 10
    screenshot(page, "oncall-overrides")

    # Change it: it ends in the past now, so Uma is back on call, again without a reload.
    row.get_by_role("button", name=re.compile("^Change")).click()
    editing = page.get_by_role("form", name="Change override")
    editing.get_by_label("From").fill(_local(now - timedelta(hours=2)))
    editing.get_by_label("Until").fill(_local(now - timedelta(hours=1)))
    editing.get_by_role("button", name="Save changes").click()
    expect(page.get_by_role("status")).to_have_text("Override changed.")
    expect(_primary(page, team["service"])).to_have_text(team["people"]["Uma"]["name"])

    # Make it current again, then delete it: Uma is back.
    row = page.get_by_role("table", name="Overrides").locator("tbody tr", has_text=wes["name"])
    expect(row).to_have_count(0)  # the list shows overrides from now on
    form.get_by_role("combobox", name=re.compile("^Who")).select_option(label=wes["name"])
    form.get_by_label("From").fill(_local(now - timedelta(minutes=1)))
    form.get_by_label("Until").fill(_local(now + timedelta(hours=1)))
    form.get_by_role("button", name="Add override").click()
    expect(_primary(page, team["service"])).to_have_text(wes["name"])
    row = page.get_by_role("table", name="Overrides").locator("tbody tr", has_text=wes["name"])
    row.get_by_role("button", name=re.compile("^Delete")).click()
    expect(page.get_by_role("status")).to_have_text(f"Override of {wes['name']} deleted.")
    expect(_primary(page, team["service"])).to_have_text(team["people"]["Uma"]["name"])
    expect(page.get_by_role("table", name="Overrides")).to_have_count(0)


def test_a_shift_on_the_timeline_opens_the_override_form_filled_in(page, ui_platform, team):
    vic = team["people"]["Vic"]
    log_in(page, vic["email"], PASSWORD)
    page.goto("/oncall")
    page.get_by_role("combobox", name=re.compile("^Schedule")).select_option(label=team["schedule"])
    page.get_by_role("button", name=re.compile(f"^Cover {team['people']['Uma']['name']}")).first.click()
    form = page.get_by_role("form", name="New override")
    expect(form.get_by_role("combobox", name=re.compile("^Who"))).to_have_value(vic["id"])
    expect(form.get_by_label("From")).not_to_have_value("")
    expect(form.get_by_label("Until")).not_to_have_value("")
    form.get_by_role("button", name="Add override").click()
    expect(page.get_by_role("status")).to_have_text("Override saved.")
    expect(_primary(page, team["service"])).to_have_text(vic["name"])
    row = page.get_by_role("table", name="Overrides").locator("tbody tr", has_text=vic["name"])
    expect(row).to_contain_text(vic["name"])  # made by Vic, for Vic
    row.get_by_role("button", name=re.compile("^Delete")).click()
    expect(_primary(page, team["service"])).to_have_text(team["people"]["Uma"]["name"])


def test_the_reassign_picker_holds_no_viewer_the_timeline_names_people_and_escalate_now_pages(page, ui_platform, team):
    people = team["people"]
    with ui_platform.admin_api() as api:
        made = api.post(
            "/api/v1/incidents", json={"title": f"cover {team['tag']}", "service": team["service"], "severity": "high"}
        )
        assert made.status_code == 201, made.text
    incident_id = made.json()["id"]
    log_in(page, people["Wes"]["email"], PASSWORD)
    page.goto(f"/incidents/{incident_id}")
    timeline = page.get_by_role("list", name="Timeline")
    expect(timeline).to_contain_text(f"Assigned to {people['Uma']['name']}", timeout=15_000)
    expect(timeline).not_to_contain_text(people["Uma"]["id"])
    picker = page.get_by_role("combobox", name=re.compile("^Reassign to"))
    options = picker.locator("option").all_inner_texts()
    assert people["Vic"]["name"] in options
    assert people["Xia"]["name"] not in options, "a viewer cannot act on a page"

    page.get_by_role("button", name="Escalate now").click()
    expect(timeline).to_contain_text(f"Escalated to level 2 ({people['Vic']['name']})", timeout=15_000)
    expect(timeline).to_contain_text(f"manual escalation by {people['Wes']['name']}")
    expect(timeline).not_to_contain_text(people["Vic"]["id"])


def test_a_new_schedule_shows_who_is_on_call_now_and_a_gap_is_warned_about_before_saving(page, ui_platform, team):
    uma, xia = team["people"]["Uma"], team["people"]["Xia"]
    name = f"fresh {team['tag']}"
    log_in(page, ui_platform.admin_email, ui_platform.admin_password)
    page.goto("/setup/schedules")
    form = page.locator("form", has=page.get_by_role("heading", name="New schedule"))
    form.get_by_label("Schedule name").fill(name)
    form.get_by_label("Time zone").fill("Europe/Berlin")
    expect(form.get_by_label("Layer 1 start date")).to_have_value("")  # from now, by default
    picker = form.get_by_label("Add to layer 1")
    assert xia["name"] not in " ".join(picker.locator("option").all_inner_texts()), "no viewer in a rotation"
    picker.select_option(label=f"{uma['name']} ({uma['email']})")
    form.get_by_role("button", name="Add to rotation").click()
    preview = form.get_by_role("region", name="Coverage preview")
    expect(preview.get_by_test_id("preview-now")).to_have_text(uma["name"])
    expect(preview).to_contain_text("Someone is on call at every moment")

    # Starting in three days instead: nobody until then, and the form says so before saving.
    form.get_by_label("Layer 1 start date").fill((datetime.now(UTC) + timedelta(days=3)).date().isoformat())
    expect(preview.get_by_test_id("preview-now")).to_have_text("nobody")
    warning = preview.get_by_role("alert")
    expect(warning).to_contain_text("One gap")
    # In the viewer's time zone, with its label.
    expect(warning.locator("li")).to_have_text(re.compile(r"^Nobody on call .+:\d\d \S+$"))
    screenshot(page, "setup-schedule-preview")
    form.get_by_label("Layer 1 start date").fill("")
    expect(preview.get_by_test_id("preview-now")).to_have_text(uma["name"])
    form.get_by_role("button", name="Create schedule").click()
    expect(page.locator("tbody tr", has_text=name)).to_contain_text(uma["name"])
    with ui_platform.admin_api() as api:
        listed = api.get("/api/v1/oncall").json()["items"]
    [row] = [item for item in listed if item["schedule"]["name"] == name]
    assert row["user"]["name"] == uma["name"], "a new schedule covers from the moment it is saved"
