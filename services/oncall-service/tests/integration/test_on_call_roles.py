"""Only responders and admins may be on call: the API refuses a viewer as a rotation
member, an escalation target or an override's user with a 422 saying why, whatever
the UI's pickers offer."""

WEEKLY = {"rotation_type": "weekly", "handoff_time": "00:00", "start_date": "2026-06-01"}


def _refused_for_the_viewer(response, viewer_id: str) -> None:
    assert response.status_code == 422, response.text
    [error] = response.json()["detail"]
    assert error["type"] == "on_call_role"
    assert f"Vera ({viewer_id}): a viewer may not be on call" in error["msg"]
    assert "only responders and admins may be on call" in error["msg"]


async def test_a_viewer_is_refused_as_a_rotation_member(api, client):
    ann = (await api.user("Ann"))["id"]
    vera = (await api.user("Vera", role="viewer"))["id"]
    created = await client.post(
        "/api/v1/schedules", json={"name": "Primary", "timezone": "UTC", "layers": [{**WEEKLY, "members": [ann, vera]}]}
    )
    _refused_for_the_viewer(created, vera)
    schedule = await api.schedule("Primary", "UTC", [{**WEEKLY, "members": [ann]}])
    path = f"/api/v1/schedules/{schedule['id']}"
    _refused_for_the_viewer(await client.post(f"{path}/layers", json={**WEEKLY, "members": [vera]}), vera)
    layer = schedule["layers"][0]["id"]
    _refused_for_the_viewer(await client.put(f"{path}/layers/{layer}", json={**WEEKLY, "members": [vera]}), vera)
    _refused_for_the_viewer(await client.patch(path, json={"layers": [{**WEEKLY, "members": [vera, ann]}]}), vera)
    kept = (await client.get(path)).json()
    assert [[m["id"] for m in lay["members"]] for lay in kept["layers"]] == [[ann]]
    # Responders and admins are welcome.
    admin = (await api.user("Ada", role="admin"))["id"]
    changed = await client.put(f"{path}/layers/{layer}", json={**WEEKLY, "members": [ann, admin]})
    assert changed.status_code == 200, changed.text


async def test_a_viewer_is_refused_as_an_escalation_target(api, client):
    ann = (await api.user("Ann"))["id"]
    vera = (await api.user("Vera", role="viewer"))["id"]
    levels = [{"delay_minutes": 5, "targets": [{"type": "user", "id": ann}, {"type": "user", "id": vera}]}]
    _refused_for_the_viewer(
        await client.post("/api/v1/escalation-policies", json={"name": "P", "levels": levels}), vera
    )
    policy = await api.post(
        "/api/v1/escalation-policies",
        {"name": "P", "levels": [{"delay_minutes": 5, "targets": [{"type": "user", "id": ann}]}]},
    )
    changed = await client.patch(f"/api/v1/escalation-policies/{policy['id']}", json={"levels": levels})
    _refused_for_the_viewer(changed, vera)


async def test_a_viewer_is_refused_as_an_override(api, client):
    ann, bob = await api.users("Ann", "Bob")
    vera = (await api.user("Vera", role="viewer"))["id"]
    schedule = await api.schedule("Primary", "UTC", [{**WEEKLY, "members": [ann]}])
    path = f"/api/v1/schedules/{schedule['id']}/overrides"
    window = {"start": "2026-06-03T00:00:00Z", "end": "2026-06-04T00:00:00Z"}
    _refused_for_the_viewer(await client.post(path, json={"user_id": vera, **window}), vera)
    override = await api.post(path, {"user_id": bob, **window})
    _refused_for_the_viewer(await client.patch(f"{path}/{override['id']}", json={"user_id": vera}), vera)


async def test_a_disabled_user_is_refused_as_a_rotation_member_and_an_override(api, client):
    ann = (await api.user("Ann"))["id"]
    dan = (await api.user("Dan"))["id"]
    assert (await client.patch(f"/api/v1/users/{dan}", json={"disabled": True})).status_code == 200
    layers = [{**WEEKLY, "members": [ann, dan]}]
    refused = await client.post("/api/v1/schedules", json={"name": "Primary", "timezone": "UTC", "layers": layers})
    assert refused.status_code == 422, refused.text
    [error] = refused.json()["detail"]
    assert error["type"] == "on_call_disabled"
    assert f"Dan ({dan}): a disabled user may not be on call" in error["msg"]
    schedule = await api.schedule("Primary", "UTC", [{**WEEKLY, "members": [ann]}])
    window = {"start": "2026-06-03T00:00:00Z", "end": "2026-06-04T00:00:00Z"}
    override = await client.post(f"/api/v1/schedules/{schedule['id']}/overrides", json={"user_id": dan, **window})
    assert override.status_code == 422 and override.json()["detail"][0]["type"] == "on_call_disabled"


async def test_someone_on_call_is_not_demoted_to_viewer_or_disabled_until_removed_there(api, client):
    ann, bob = await api.users("Ann", "Bob")
    schedule = await api.schedule("Primary", "UTC", [{**WEEKLY, "members": [ann, bob]}])
    for change, becoming in (({"role": "viewer"}, "a viewer"), ({"disabled": True}, "disabled")):
        refused = await client.patch(f"/api/v1/users/{bob}", json=change)
        assert refused.status_code == 409, refused.text
        assert f"Bob ({bob}) is still on a schedule rotation and cannot be {becoming}" in refused.text
    kept = (await client.get(f"/api/v1/users/{bob}")).json()
    assert (kept["role"], kept["disabled"]) == ("responder", False), "nothing was changed"

    layer = schedule["layers"][0]["id"]
    path = f"/api/v1/schedules/{schedule['id']}/layers/{layer}"
    assert (await client.put(path, json={**WEEKLY, "members": [ann]})).status_code == 200
    demoted = await client.patch(f"/api/v1/users/{bob}", json={"role": "viewer", "disabled": True})
    assert demoted.status_code == 200, demoted.text
