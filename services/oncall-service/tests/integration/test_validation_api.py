"""Every bad input is refused with a clear 4xx, and nothing is stored."""

import pytest

MISSING = "00000000-0000-4000-8000-000000000000"


@pytest.fixture
async def ann(api):
    return (await api.user("Ann"))["id"]


def layer(members, **changes):
    return {"rotation_type": "daily", "start_date": "2026-03-01", "handoff_time": "09:00", "members": members} | changes


@pytest.mark.parametrize(
    ("schedule_changes", "layer_changes", "status", "fragment"),
    [
        ({"timezone": "Mars/Olympus"}, {}, 422, "unknown timezone"),
        ({"timezone": "EST5EDTX"}, {}, 422, "unknown timezone"),
        ({}, {"handoff_time": "25:00"}, 422, "invalid handoff time"),
        ({}, {"handoff_time": "9am"}, 422, "invalid handoff time"),
        ({}, {"handoff_time": "09:60"}, 422, "invalid handoff time"),
        ({}, {"members": []}, 422, "at least one member"),
        ({}, {"members": [MISSING]}, 422, "unknown user"),
        ({}, {"end_at": "2026-03-01T07:59:00Z"}, 422, "end_at must be after the layer starts"),
        ({}, {"end_at": "2026-03-05T00:00:00"}, 422, "timezone"),
        ({}, {"rotation_type": "monthly"}, 422, "rotation_type"),
        ({}, {"shift_length": 0}, 422, "shift_length"),
        ({}, {"start_date": "2026-02-30"}, 422, "start_date"),
        ({}, {"start_date": "0001-01-01"}, 422, "date out of range"),
        ({"team_id": MISSING}, {}, 422, "unknown team"),
        ({"name": "  "}, {}, 422, "name"),
    ],
)
async def test_bad_schedules_are_refused(client, ann, schedule_changes, layer_changes, status, fragment):
    body = {"name": "Primary", "timezone": "Europe/Berlin", "layers": [layer([ann]) | layer_changes]}
    response = await client.post("/api/v1/schedules", json=body | schedule_changes)
    assert response.status_code == status, response.text
    assert fragment in response.text
    assert (await client.get("/api/v1/schedules")).json()["total"] == 0


async def test_duplicate_layer_priorities_and_schedule_names_are_refused(api, client, ann):
    two = [layer([ann], priority=1), layer([ann], priority=1)]
    response = await client.post("/api/v1/schedules", json={"name": "A", "timezone": "UTC", "layers": two})
    assert response.status_code == 422 and "priority 1" in response.json()["detail"]
    await api.schedule("A", "UTC", [layer([ann])])
    again = await client.post("/api/v1/schedules", json={"name": "A", "timezone": "UTC"})
    assert again.status_code == 409


@pytest.mark.parametrize(
    ("body", "status", "fragment"),
    [
        ({"start": "2026-03-02T00:00:00Z", "end": "2026-03-01T00:00:00Z"}, 422, "end must be after start"),
        ({"start": "2026-03-02T00:00:00Z", "end": "2026-03-02T00:00:00Z"}, 422, "end must be after start"),
        ({"start": "2026-03-02T00:00:00", "end": "2026-03-03T00:00:00"}, 422, "timezone"),
        ({"start": "2026-03-02T00:00:00Z", "end": "soon"}, 422, "end"),
        ({"start": "2026-03-02T00:00:00Z", "end": "9999-12-31T23:59:59-10:00"}, 422, "time out of range"),
        ({"user_id": MISSING, "start": "2026-03-02T00:00:00Z", "end": "2026-03-03T00:00:00Z"}, 422, "unknown user"),
    ],
)
async def test_bad_overrides_are_refused(api, client, ann, body, status, fragment):
    schedule = await api.schedule("S", "UTC", [layer([ann])])
    response = await client.post(f"/api/v1/schedules/{schedule['id']}/overrides", json={"user_id": ann} | body)
    assert response.status_code == status, response.text
    assert fragment in response.text
    assert (await client.get(f"/api/v1/schedules/{schedule['id']}/overrides")).json()["total"] == 0


async def test_overrides_and_shifts_of_an_unknown_schedule_are_404(client, ann):
    override = {"user_id": ann, "start": "2026-03-02T00:00:00Z", "end": "2026-03-03T00:00:00Z"}
    assert (await client.post(f"/api/v1/schedules/{MISSING}/overrides", json=override)).status_code == 404
    assert (await client.get(f"/api/v1/schedules/{MISSING}/shifts")).status_code == 404


@pytest.mark.parametrize(
    ("params", "fragment"),
    [
        ({"from": "2026-03-02T00:00:00Z", "to": "2026-03-01T00:00:00Z"}, "`to` must be after `from`"),
        ({"from": "2026-01-01T00:00:00Z", "to": "2027-06-01T00:00:00Z"}, "at most 366 days"),
        ({"from": "2026-03-02T00:00:00"}, "timezone"),
        ({"from": "0001-01-01T00:00:00+14:00"}, "time out of range"),
    ],
)
async def test_bad_shift_ranges_are_refused(api, client, ann, params, fragment):
    schedule = await api.schedule("S", "UTC", [layer([ann])])
    response = await client.get(f"/api/v1/schedules/{schedule['id']}/shifts", params=params)
    assert response.status_code == 422
    assert fragment in response.text


@pytest.mark.parametrize(
    ("changes", "fragment"),
    [
        ({"levels": []}, "levels"),
        ({"levels": [{"delay_minutes": 5, "targets": []}]}, "targets"),
        ({"levels": [{"delay_minutes": 0, "targets": [{"type": "user", "id": "ANN"}]}]}, "delay_minutes"),
        ({"levels": [{"delay_minutes": 5, "targets": [{"type": "team", "id": "ANN"}]}]}, "type"),
        ({"levels": [{"delay_minutes": 5, "targets": [{"type": "user", "id": MISSING}]}]}, "unknown user"),
        ({"levels": [{"delay_minutes": 5, "targets": [{"type": "schedule", "id": MISSING}]}]}, "unknown schedule"),
        ({"repeat_count": 10}, "repeat_count"),
        ({"team_id": MISSING}, "unknown team"),
    ],
)
async def test_bad_escalation_policies_are_refused(client, ann, changes, fragment):
    body = {"name": "P", "levels": [{"delay_minutes": 5, "targets": [{"type": "user", "id": ann}]}]} | changes
    body = _replace(body, "ANN", ann)
    response = await client.post("/api/v1/escalation-policies", json=body)
    assert response.status_code == 422, response.text
    assert fragment in response.text
    assert (await client.get("/api/v1/escalation-policies")).json()["total"] == 0


def _replace(value, old, new):
    if isinstance(value, dict):
        return {k: _replace(v, old, new) for k, v in value.items()}
    if isinstance(value, list):
        return [_replace(v, old, new) for v in value]
    return new if value == old else value


async def test_malformed_json_and_unknown_fields_are_422_not_500(client):
    broken = await client.post("/api/v1/schedules", content=b"{not json", headers={"content-type": "application/json"})
    assert broken.status_code == 422
    extra = await client.post("/api/v1/schedules", json={"name": "S", "timezone": "UTC", "layerz": []})
    assert extra.status_code == 422 and "layerz" in extra.text
