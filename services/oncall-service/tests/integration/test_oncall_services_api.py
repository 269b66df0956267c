"""GET /api/v1/oncall/services: every service's on-call chain in one answer, equal to
what /oncall/current says for each, in a number of statements that does not grow
with the number of services."""

import pytest
from sqlalchemy import event

from platform_testing import user_with_token

AT = "2026-03-01T10:30:00Z"


async def listed(client, **params):
    response = await client.get("/api/v1/oncall/services", params=params)
    assert response.status_code == 200, response.text
    return response.json()


async def one(client, service: str, at: str):
    response = await client.get("/api/v1/oncall/current", params={"service": service, "at": at})
    assert response.status_code == 200, response.text
    return response.json()


@pytest.fixture
async def estate(api):
    """Services paged in every way /current knows: their own policy (with an override
    running and a level whose schedule nobody covers yet), their team's policy, their
    team's schedule without any policy, and nothing at all."""
    ann, bob, cy, mgr = await api.users("Ann", "Bob", "Cy", "Mgr")
    daily = await api.schedule(
        "Daily",
        "Europe/Berlin",
        [{"rotation_type": "daily", "handoff_time": "09:00", "start_date": "2026-02-01", "members": [ann, bob]}],
    )
    later = await api.schedule(
        "Later", "UTC", [{"rotation_type": "daily", "start_date": "2026-04-01", "members": [cy]}]
    )
    await api.post(
        f"/api/v1/schedules/{daily['id']}/overrides",
        {"user_id": cy, "start": "2026-03-01T10:00:00Z", "end": "2026-03-01T11:00:00Z"},
    )
    gappy = await api.post(
        "/api/v1/escalation-policies",
        {
            "name": "Gappy",
            "repeat_count": 1,
            "levels": [
                {"delay_minutes": 5, "targets": [{"type": "schedule", "id": later["id"]}]},
                {"delay_minutes": 10, "targets": [{"type": "schedule", "id": daily["id"]}]},
                {
                    "delay_minutes": 15,
                    "targets": [{"type": "user", "id": mgr}, {"type": "schedule", "id": daily["id"]}],
                },
            ],
        },
    )
    plain = await api.post(
        "/api/v1/escalation-policies",
        {"name": "Plain", "levels": [{"delay_minutes": 5, "targets": [{"type": "user", "id": bob}]}]},
    )
    with_policy = await api.post("/api/v1/teams", {"name": "Payments", "escalation_policy_id": plain["id"]})
    without = await api.post("/api/v1/teams", {"name": "Infra"})
    await api.schedule(
        "Infra rota",
        "UTC",
        [{"rotation_type": "weekly", "handoff_time": "10:00", "start_date": "2026-02-02", "members": [mgr, ann]}],
        team_id=without["id"],
    )
    await api.post("/api/v1/services", {"name": "checkout", "escalation_policy_id": gappy["id"]})
    await api.post("/api/v1/services", {"name": "billing", "team_id": with_policy["id"]})
    await api.post(
        "/api/v1/services",
        {"name": "cards", "team_id": with_policy["id"], "escalation_policy_id": gappy["id"]},
    )
    await api.post("/api/v1/services", {"name": "dns", "team_id": without["id"]})
    await api.post("/api/v1/services", {"name": "legacy"})
    return {"without": without}


def resolved(item: dict, users: dict, at: str) -> dict:
    """An item with its people looked up in the answer's `users`: /current's shape."""
    chain = [
        {**{k: v for k, v in level.items() if k != "user_ids"}, "users": [users[u] for u in level["user_ids"]]}
        for level in item["escalation_chain"]
    ]
    primary = users[item["primary_id"]] if item["primary_id"] else None
    rest = {k: v for k, v in item.items() if k not in ("primary_id", "escalation_chain")}
    return {**rest, "at": at, "primary": primary, "escalation_chain": chain}


async def test_every_service_answers_what_current_answers_for_it(client, estate):
    body = await listed(client, at=AT)
    assert (body["at"], body["total"], body["limit"], body["offset"]) == (AT, 5, 50, 0)
    names = [item["service"]["name"] for item in body["items"]]
    assert names == ["billing", "cards", "checkout", "dns", "legacy"], "by name, as every list"
    for item in body["items"]:
        expected = await one(client, item["service"]["name"], AT)
        assert resolved(item, body["users"], AT) == expected, item["service"]["name"]
    by_name = {item["service"]["name"]: resolved(item, body["users"], AT) for item in body["items"]}
    # What the comparison covered: the override, the level nobody covers, the fallbacks.
    checkout = by_name["checkout"]
    assert [[u["name"] for u in level["users"]] for level in checkout["escalation_chain"]] == [
        [],
        ["Cy"],
        ["Mgr", "Cy"],
    ]
    assert checkout["primary"]["name"] == "Cy"
    assert by_name["billing"]["escalation_policy"]["name"] == "Plain", "the team's policy"
    assert by_name["cards"]["escalation_policy"]["name"] == "Gappy", "the service's own policy wins"
    assert by_name["dns"]["escalation_policy"] is None and by_name["dns"]["primary"]["name"] == "Ann"
    assert by_name["legacy"]["primary"] is None and by_name["legacy"]["escalation_chain"] == []


async def test_each_person_paged_comes_once_with_what_paging_them_needs(api, client):
    """Forty services paging the same two people: the answer holds each of them once,
    with their contact methods and notification rules, and every item refers to them
    by id (the answer grows with the services, not with services x people)."""
    methods = [{"type": "email", "address": "kim@example.com"}, {"type": "slack", "address": "https://hooks.example/k"}]
    kim = await api.user("Kim", contact_methods=methods)
    (lou,) = await api.users("Lou")
    rota = await api.schedule(
        "Rota", "UTC", [{"rotation_type": "daily", "start_date": "2026-02-01", "members": [kim["id"]]}]
    )
    levels = [
        {"delay_minutes": 5, "targets": [{"type": "schedule", "id": rota["id"]}]},
        {"delay_minutes": 10, "targets": [{"type": "user", "id": lou}, {"type": "user", "id": kim["id"]}]},
    ]
    policy = await api.post("/api/v1/escalation-policies", {"name": "Shared", "levels": levels})
    for n in range(40):
        await api.post("/api/v1/services", {"name": f"svc-{n:02}", "escalation_policy_id": policy["id"]})
    response = await client.get("/api/v1/oncall/services", params={"at": AT, "limit": 200})
    assert response.status_code == 200, response.text
    body = response.json()
    assert sorted(body["users"]) == sorted([kim["id"], lou]), "everyone paged, once"
    assert body["users"][kim["id"]]["contact_methods"] == kim["contact_methods"]
    assert body["users"][kim["id"]]["notification_rules"] == []
    for item in body["items"]:
        assert item["primary_id"] == kim["id"]
        assert [level["user_ids"] for level in item["escalation_chain"]] == [[kim["id"]], [lou, kim["id"]]]
        assert "primary" not in item and all("users" not in level for level in item["escalation_chain"])
    assert response.text.count("kim@example.com") == 2, "Kim's email and her email contact method, once each"


async def test_the_listing_pages_and_filters_by_team_like_every_list(client, estate):
    second = await listed(client, at=AT, limit=2, offset=2)
    assert second["total"] == 5 and [i["service"]["name"] for i in second["items"]] == ["checkout", "dns"]
    infra = await listed(client, at=AT, team_id=estate["without"]["id"])
    assert infra["total"] == 1 and infra["items"][0]["service"]["name"] == "dns"
    assert (await listed(client, team_id="00000000-0000-4000-8000-000000000000"))["items"] == []


@pytest.mark.parametrize(
    "params",
    [
        {"at": "2026-03-01T12:00:00"},
        {"at": "yesterday"},
        {"limit": 0},
        {"limit": 201},
        {"offset": -1},
        {"team_id": "payments"},
    ],
)
async def test_bad_listing_queries_get_clear_errors(client, params):
    response = await client.get("/api/v1/oncall/services", params=params)
    assert response.status_code == 422, response.text
    assert response.json()["detail"]


async def _statements(app, client, **params) -> list[str]:
    seen: list[str] = []

    def note(_conn, _cursor, statement, *_args):
        if statement.strip() != "SELECT 1":  # the readiness monitor's ping, running beside
            seen.append(statement)

    engine = app.state.db.engine.sync_engine
    event.listen(engine, "before_cursor_execute", note)
    try:
        await listed(client, **params)
    finally:
        event.remove(engine, "before_cursor_execute", note)
    return seen


async def test_the_statements_do_not_grow_with_the_services(api, app, client):
    """Each service with its own policy, schedule, override and team: two of them or
    twelve are read with the same statements (the old page asked once per service)."""
    (ann,) = await api.users("Ann")
    counts = []
    for batch in range(2):
        for n in range(2 if batch == 0 else 10):
            name = f"s{batch}-{n}"
            schedule = await api.schedule(
                name, "UTC", [{"rotation_type": "daily", "start_date": "2026-02-01", "members": [ann]}]
            )
            await api.post(
                f"/api/v1/schedules/{schedule['id']}/overrides",
                {"user_id": ann, "start": "2026-03-01T10:00:00Z", "end": "2026-03-01T11:00:00Z"},
            )
            target = {"type": "schedule", "id": schedule["id"]}
            policy = await api.post(
                "/api/v1/escalation-policies", {"name": name, "levels": [{"delay_minutes": 5, "targets": [target]}]}
            )
            team = await api.post("/api/v1/teams", {"name": name})
            await api.post(
                "/api/v1/services", {"name": name, "team_id": team["id"], "escalation_policy_id": policy["id"]}
            )
        counts.append(len(await _statements(app, client, at=AT, limit=200)))
    assert counts[0] == counts[1], counts


async def test_the_teams_members_are_not_read(api, app, client):
    """A team's members (and their contact methods and rules) are not what the page
    shows: a service's team is read for its name and policy only."""
    people = await api.users("Ann", "Bob", "Cy")
    team = await api.post("/api/v1/teams", {"name": "Big", "members": [{"user_id": u} for u in people]})
    await api.post("/api/v1/services", {"name": "owned", "team_id": team["id"]})
    seen = await _statements(app, client, at=AT)
    assert not [s for s in seen if "team_members" in s], seen
    assert (await listed(client, at=AT))["items"][0]["team"] == {"id": team["id"], "name": "Big"}


async def test_the_people_map_hides_others_secret_addresses_as_every_answer_does(api, client, clean_database):
    """A Slack URL is a credential: in `users`, as in /current, another responder sees
    only its scheme and host."""
    slack = {"type": "slack", "address": "https://hooks.example/secret-path"}
    kim = await api.user("Kim", contact_methods=[slack])
    target = {"type": "user", "id": kim["id"]}
    policy = await api.post(
        "/api/v1/escalation-policies", {"name": "Kim", "levels": [{"delay_minutes": 5, "targets": [target]}]}
    )
    await api.post("/api/v1/services", {"name": "kims", "escalation_policy_id": policy["id"]})
    _, other = user_with_token(clean_database, "Noor")
    response = await client.get("/api/v1/oncall/services", params={"at": AT}, headers=other)
    assert response.status_code == 200, response.text
    assert "secret-path" not in response.text
    [shown] = response.json()["users"][kim["id"]]["contact_methods"]
    expected = (await client.get("/api/v1/oncall/current", params={"service": "kims", "at": AT}, headers=other)).json()
    assert shown == expected["primary"]["contact_methods"][0]
