"""GET /api/v1/oncall/current and the escalation policy shapes incident-management reads."""

import pytest

MISSING = "00000000-0000-4000-8000-000000000000"


@pytest.fixture
async def checkout(api):
    """A service owned by a team, paging a daily Berlin rotation, then a manager, then the whole team."""
    ann, bob, cy, mgr = await api.users("Ann", "Bob", "Cy", "Mgr")
    schedule = await api.schedule(
        "Payments primary",
        "Europe/Berlin",
        [{"rotation_type": "daily", "handoff_time": "09:00", "start_date": "2026-03-01", "members": [ann, bob, cy]}],
    )
    policy = await api.post(
        "/api/v1/escalation-policies",
        {
            "name": "Payments",
            "repeat_count": 2,
            "levels": [
                {"delay_minutes": 5, "targets": [{"type": "schedule", "id": schedule["id"]}]},
                {"delay_minutes": 10, "targets": [{"type": "user", "id": mgr}]},
                {
                    "delay_minutes": 15,
                    "targets": [{"type": "user", "id": mgr}, {"type": "schedule", "id": schedule["id"]}],
                },
            ],
        },
    )
    team = await api.post("/api/v1/teams", {"name": "Payments", "escalation_policy_id": policy["id"]})
    service = await api.post(
        "/api/v1/services", {"name": "checkout", "team_id": team["id"], "escalation_policy_id": policy["id"]}
    )
    return {
        "ann": ann,
        "bob": bob,
        "cy": cy,
        "mgr": mgr,
        "schedule": schedule,
        "policy": policy,
        "team": team,
        "service": service,
    }


async def current(client, **params):
    response = await client.get("/api/v1/oncall/current", params=params)
    assert response.status_code == 200, response.text
    return response.json()


async def test_current_on_call_for_a_service_at_chosen_moments(client, checkout):
    # 2026-03-01 09:00 CET is Ann's first shift; Bob takes over at 09:00 the next day.
    body = await current(client, service="checkout", at="2026-03-02T07:59:59Z")
    assert body["at"] == "2026-03-02T07:59:59Z"
    assert body["primary"]["name"] == "Ann"
    assert body["service"] == {
        "id": checkout["service"]["id"],
        "name": "checkout",
        "high_urgency_severities": ["critical", "high"],
    }
    assert body["team"] == {"id": checkout["team"]["id"], "name": "Payments"}
    assert body["escalation_policy"] == {"id": checkout["policy"]["id"], "name": "Payments", "repeat_count": 2}
    assert (await current(client, service="checkout", at="2026-03-02T08:00:00Z"))["primary"]["name"] == "Bob"
    # After Berlin switches to CEST (29 March), 09:00 local is 07:00 UTC.
    late_march = await current(client, service="checkout", at="2026-03-30T07:00:00+00:00")
    early = await current(client, service="checkout", at="2026-03-30T06:59:00Z")
    assert late_march["primary"]["name"] != early["primary"]["name"]


async def test_escalation_chain_lists_each_level_with_targets_and_resolved_users(client, checkout):
    body = await current(client, service="checkout", at="2026-03-01T12:00:00Z")
    chain = body["escalation_chain"]
    assert [(level["level"], level["delay_minutes"]) for level in chain] == [(0, 5), (1, 10), (2, 15)]
    assert chain[0]["targets"] == [{"type": "schedule", "id": checkout["schedule"]["id"], "name": "Payments primary"}]
    assert [u["name"] for u in chain[0]["users"]] == ["Ann"]
    assert [u["name"] for u in chain[1]["users"]] == ["Mgr"]
    assert [u["name"] for u in chain[2]["users"]] == ["Mgr", "Ann"]
    # Each user comes with where and what they take pages on, so the caller can page them
    # through notification-service without asking here again.
    assert set(chain[0]["users"][0]) == {
        "id",
        "name",
        "email",
        "contact_methods",
        "muted_channels",
        "muted_severities",
        "notification_rules",
    }
    assert chain[0]["users"][0]["email"] == "ann@example.com"


async def test_an_override_changes_who_is_paged_exactly_over_its_range(api, client, checkout):
    await api.post(
        f"/api/v1/schedules/{checkout['schedule']['id']}/overrides",
        {"user_id": checkout["cy"], "start": "2026-03-01T10:00:00Z", "end": "2026-03-01T11:00:00Z"},
    )
    assert (await current(client, service="checkout", at="2026-03-01T09:59:59Z"))["primary"]["name"] == "Ann"
    during = await current(client, service="checkout", at="2026-03-01T10:00:00Z")
    assert during["primary"]["name"] == "Cy"
    assert [u["name"] for u in during["escalation_chain"][2]["users"]] == ["Mgr", "Cy"]
    assert (await current(client, service="checkout", at="2026-03-01T11:00:00Z"))["primary"]["name"] == "Ann"


async def test_current_defaults_to_now_and_works_by_team_name_or_id(client, checkout, clock):
    by_name = await current(client, team="Payments")
    by_id = await current(client, team=checkout["team"]["id"])
    assert by_name["at"] == "2026-03-01T12:00:00Z"
    assert by_name["primary"]["name"] == by_id["primary"]["name"] == "Ann"
    assert by_name["service"] is None and by_name["team"]["name"] == "Payments"


async def test_without_a_policy_the_primary_is_whoever_the_team_schedule_has_on_call(api, client):
    ann, bob = await api.users("Ann", "Bob")
    team = await api.post("/api/v1/teams", {"name": "Infra"})
    await api.schedule(
        "Infra rota",
        "UTC",
        [{"rotation_type": "weekly", "handoff_time": "10:00", "start_date": "2026-02-02", "members": [ann, bob]}],
        team_id=team["id"],
    )
    await api.post("/api/v1/services", {"name": "dns", "team_id": team["id"]})
    body = await current(client, service="dns", at="2026-02-10T09:00:00Z")
    assert body["primary"]["name"] == "Bob"
    assert body["escalation_policy"] is None and body["escalation_chain"] == []
    await api.post("/api/v1/services", {"name": "legacy"})
    assert (await current(client, service="legacy"))["primary"] is None


async def test_a_gap_in_level_zero_falls_through_to_the_next_level_that_pages_someone(api, client):
    ann, mgr = await api.users("Ann", "Mgr")
    schedule = await api.schedule(
        "Starts later", "UTC", [{"rotation_type": "daily", "start_date": "2026-04-01", "members": [ann]}]
    )
    policy = await api.post(
        "/api/v1/escalation-policies",
        {
            "name": "Gappy",
            "levels": [
                {"delay_minutes": 5, "targets": [{"type": "schedule", "id": schedule["id"]}]},
                {"delay_minutes": 5, "targets": [{"type": "user", "id": mgr}]},
            ],
        },
    )
    await api.post("/api/v1/services", {"name": "search", "escalation_policy_id": policy["id"]})
    before = await current(client, service="search", at="2026-03-15T00:00:00Z")
    assert before["escalation_chain"][0]["users"] == [] and before["primary"]["name"] == "Mgr"
    after = await current(client, service="search", at="2026-04-01T09:00:00Z")
    assert after["primary"]["name"] == "Ann"


@pytest.mark.parametrize(
    ("params", "status"),
    [
        ({}, 400),
        ({"service": "checkout", "team": "Payments"}, 400),
        ({"service": "nope"}, 404),
        ({"team": "nope"}, 404),
        ({"team": MISSING}, 404),
        ({"service": "checkout", "at": "2026-03-01T12:00:00"}, 422),
        ({"service": "checkout", "at": "yesterday"}, 422),
    ],
)
async def test_bad_current_queries_get_clear_errors(client, checkout, params, status):
    response = await client.get("/api/v1/oncall/current", params=params)
    assert response.status_code == status
    assert response.json()["detail"]


async def test_policy_reads_back_in_the_shape_incident_management_expects(client, checkout):
    response = await client.get(f"/api/v1/escalation-policies/{checkout['policy']['id']}")
    assert response.status_code == 200
    policy = response.json()
    assert {"id", "name", "repeat_count", "team_id", "levels"} <= policy.keys()
    assert [(lv["position"], lv["delay_minutes"]) for lv in policy["levels"]] == [(0, 5), (1, 10), (2, 15)]
    assert policy["levels"][1]["targets"] == [{"type": "user", "id": checkout["mgr"], "name": "Mgr"}]


async def test_policies_can_be_changed_and_deleting_one_detaches_it(api, client, checkout):
    policy_id = checkout["policy"]["id"]
    patched = await client.patch(
        f"/api/v1/escalation-policies/{policy_id}",
        json={
            "repeat_count": 0,
            "levels": [{"delay_minutes": 3, "targets": [{"type": "user", "id": checkout["bob"]}]}],
        },
    )
    assert patched.status_code == 200, patched.text
    assert patched.json()["repeat_count"] == 0 and len(patched.json()["levels"]) == 1
    assert (await current(client, service="checkout"))["primary"]["name"] == "Bob"
    listed = (await client.get("/api/v1/escalation-policies")).json()
    assert listed["total"] == 1
    assert (await client.delete(f"/api/v1/escalation-policies/{policy_id}")).status_code == 204
    assert (await client.get(f"/api/v1/services/{checkout['service']['id']}")).json()["escalation_policy_id"] is None
    assert (await client.get(f"/api/v1/teams/{checkout['team']['id']}")).json()["escalation_policy_id"] is None


async def test_people_and_schedules_still_in_use_cannot_be_deleted(client, checkout):
    busy_user = await client.delete(f"/api/v1/users/{checkout['ann']}")
    assert busy_user.status_code == 409 and "rotation" in busy_user.json()["detail"]
    busy_schedule = await client.delete(f"/api/v1/schedules/{checkout['schedule']['id']}")
    assert busy_schedule.status_code == 409 and busy_schedule.json()["policies"] == ["Payments"]


async def test_a_hand_typed_offset_whose_plus_became_a_space_still_reads(client, checkout):
    response = await client.get("/api/v1/oncall/current?service=checkout&at=2026-03-01T13:00:00+01:00")
    assert response.status_code == 200, response.text
    assert response.json()["at"] == "2026-03-01T12:00:00Z"


async def test_the_overview_lists_every_schedule_with_who_is_on_call_and_until_when(api, client, checkout):
    ann = checkout["ann"]
    await api.schedule("Empty later", "UTC", [{"rotation_type": "daily", "start_date": "2026-12-01", "members": [ann]}])
    await api.schedule("Solo", "UTC", [{"rotation_type": "daily", "start_date": "2026-01-01", "members": [ann]}])
    response = await client.get("/api/v1/oncall", params={"at": "2026-03-01T12:00:00Z"})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["total"] == 3 and body["at"] == "2026-03-01T12:00:00Z"
    rows = {row["schedule"]["name"]: row for row in body["items"]}
    assert rows["Payments primary"]["user"]["name"] == "Ann"
    assert rows["Payments primary"]["until"] == "2026-03-02T08:00:00Z"  # 09:00 CET handoff
    assert rows["Empty later"]["user"] is None and rows["Empty later"]["until"] is None
    assert rows["Solo"]["user"]["name"] == "Ann" and rows["Solo"]["until"] is None  # one member: no end in sight


async def test_a_services_acknowledgement_timeout_is_set_turned_off_and_given_to_the_caller(api, client, checkout):
    service_id = checkout["service"]["id"]
    assert checkout["service"]["acknowledgement_timeout_minutes"] is None
    assert (await current(client, service="checkout"))["acknowledgement_timeout_minutes"] is None
    changed = await client.patch(f"/api/v1/services/{service_id}", json={"acknowledgement_timeout_minutes": 30})
    assert changed.status_code == 200, changed.text
    assert changed.json()["acknowledgement_timeout_minutes"] == 30
    assert (await current(client, service="checkout"))["acknowledgement_timeout_minutes"] == 30
    assert (await current(client, team="Payments"))["acknowledgement_timeout_minutes"] is None, "a team has none"
    for bad in (0, -5, 10081, "soon"):
        refused = await client.patch(f"/api/v1/services/{service_id}", json={"acknowledgement_timeout_minutes": bad})
        assert refused.status_code == 422, bad
    renamed = await client.patch(f"/api/v1/services/{service_id}", json={"description": "cards"})
    assert renamed.json()["acknowledgement_timeout_minutes"] == 30, "left out: unchanged"
    off = await client.patch(f"/api/v1/services/{service_id}", json={"acknowledgement_timeout_minutes": None})
    assert off.json()["acknowledgement_timeout_minutes"] is None, "null: off"
