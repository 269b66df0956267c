"""Schedules through the HTTP API: a month of shifts across DST, layers, overrides."""

import itertools
import uuid
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from platform_testing import user_with_token

NEW_YORK = ZoneInfo("America/New_York")
BERLIN = ZoneInfo("Europe/Berlin")


def parse(value: str) -> datetime:
    return datetime.fromisoformat(value)


def hours(shift: dict) -> float:
    return (parse(shift["end"]) - parse(shift["start"])) / timedelta(hours=1)


def local(value: str, tz: ZoneInfo) -> str:
    return parse(value).astimezone(tz).strftime("%a %m-%d %H:%M")


async def test_weekly_rotation_over_march_in_new_york_keeps_monday_9am_across_dst(api):
    ann, bob, cy = await api.users("Ann", "Bob", "Cy")
    schedule = await api.schedule(
        "Primary",
        "America/New_York",
        [{"rotation_type": "weekly", "handoff_time": "09:00", "start_date": "2026-03-02", "members": [ann, bob, cy]}],
    )
    body = await api.shifts(schedule["id"], "2026-03-01T00:00:00-05:00", "2026-04-01T00:00:00-04:00")
    shifts = body["shifts"]
    assert [s["user"]["name"] for s in shifts] == ["Ann", "Bob", "Cy", "Ann", "Bob"]
    assert [local(s["start"], NEW_YORK) for s in shifts] == [
        "Mon 03-02 09:00",
        "Mon 03-09 09:00",
        "Mon 03-16 09:00",
        "Mon 03-23 09:00",
        "Mon 03-30 09:00",
    ]
    # The week that contains the switch to EDT (Sunday 2026-03-08) is an hour shorter.
    assert [hours(s) for s in shifts[:3]] == [167, 168, 168]
    assert shifts[0]["start"] == "2026-03-02T14:00:00Z"
    assert shifts[-1]["end"] == "2026-04-01T04:00:00Z"
    assert body["timezone"] == "America/New_York" and body["from"] == "2026-03-01T05:00:00Z"
    assert all(a["end"] == b["start"] for a, b in itertools.pairwise(shifts))


async def test_daily_rotation_over_october_in_berlin_has_one_25_hour_day(api):
    ann, bob = await api.users("Ann", "Bob")
    schedule = await api.schedule(
        "Berlin days",
        "Europe/Berlin",
        [{"rotation_type": "daily", "handoff_time": "08:30", "start_date": "2026-10-01", "members": [ann, bob]}],
    )
    shifts = (await api.shifts(schedule["id"], "2026-10-01T06:30:00Z", "2026-11-01T07:30:00Z"))["shifts"]
    assert len(shifts) == 31
    assert [s["user"]["name"] for s in shifts[:4]] == ["Ann", "Bob", "Ann", "Bob"]
    assert all(parse(s["start"]).astimezone(BERLIN).strftime("%H:%M") == "08:30" for s in shifts)
    durations = {parse(s["start"]).astimezone(BERLIN).date().isoformat(): hours(s) for s in shifts}
    assert durations["2026-10-24"] == 25  # Sunday 25 October falls back to CET
    assert {d for day, d in durations.items() if day != "2026-10-24"} == {24}


async def test_higher_layer_wins_where_it_covers_and_lower_fills_the_rest(api):
    ann, bob, weekend = await api.users("Ann", "Bob", "Weekend")
    schedule = await api.schedule(
        "Layered",
        "Europe/Berlin",
        [
            {"name": "Weekdays", "rotation_type": "daily", "start_date": "2026-05-04", "members": [ann, bob]},
            {
                "name": "Saturday cover",
                "rotation_type": "daily",
                "start_date": "2026-05-09",
                "handoff_time": "09:00",
                "end_at": "2026-05-10T07:00:00Z",
                "members": [weekend],
            },
        ],
    )
    assert [layer["name"] for layer in schedule["layers"]] == ["Saturday cover", "Weekdays"]
    assert [layer["priority"] for layer in schedule["layers"]] == [1, 0]
    body = await api.shifts(schedule["id"], "2026-05-08T07:00:00Z", "2026-05-11T07:00:00Z")
    assert [(s["user"]["name"], s["start"], s["end"], s["source"]["name"]) for s in body["shifts"]] == [
        ("Ann", "2026-05-08T07:00:00Z", "2026-05-09T07:00:00Z", "Weekdays"),
        ("Weekend", "2026-05-09T07:00:00Z", "2026-05-10T07:00:00Z", "Saturday cover"),
        ("Ann", "2026-05-10T07:00:00Z", "2026-05-11T07:00:00Z", "Weekdays"),
    ]
    # Each layer is also given on its own, as the UI draws them.
    weekdays = next(layer for layer in body["layers"] if layer["name"] == "Weekdays")
    assert [s["user"]["name"] for s in weekdays["shifts"]] == ["Ann", "Bob", "Ann"]


async def test_an_override_replaces_exactly_its_range_and_can_be_removed(api, client):
    ann, bob, cy = await api.users("Ann", "Bob", "Cy")
    schedule = await api.schedule(
        "With cover",
        "UTC",
        [{"rotation_type": "weekly", "handoff_time": "00:00", "start_date": "2026-06-01", "members": [ann, bob]}],
    )
    override = await api.post(
        f"/api/v1/schedules/{schedule['id']}/overrides",
        {"user_id": cy, "start": "2026-06-03T13:15:00+02:00", "end": "2026-06-04T08:00:00Z"},
    )
    assert override["user"]["name"] == "Cy" and override["start"] == "2026-06-03T11:15:00Z"
    body = await api.shifts(schedule["id"], "2026-06-01T00:00:00Z", "2026-06-15T00:00:00Z")
    assert [(s["user"]["name"], s["start"], s["end"], s["source"]["type"]) for s in body["shifts"]] == [
        ("Ann", "2026-06-01T00:00:00Z", "2026-06-03T11:15:00Z", "layer"),
        ("Cy", "2026-06-03T11:15:00Z", "2026-06-04T08:00:00Z", "override"),
        ("Ann", "2026-06-04T08:00:00Z", "2026-06-08T00:00:00Z", "layer"),
        ("Bob", "2026-06-08T00:00:00Z", "2026-06-15T00:00:00Z", "layer"),
    ]
    listed = (await client.get(f"/api/v1/schedules/{schedule['id']}/overrides")).json()
    assert listed["total"] == 1 and listed["items"][0]["id"] == override["id"]
    deleted = await client.delete(f"/api/v1/schedules/{schedule['id']}/overrides/{override['id']}")
    assert deleted.status_code == 204
    body = await api.shifts(schedule["id"], "2026-06-01T00:00:00Z", "2026-06-08T00:00:00Z")
    assert [s["user"]["name"] for s in body["shifts"]] == ["Ann"]


async def test_touching_overrides_are_fine_and_overlapping_ones_conflict(api, client):
    ann, bob = await api.users("Ann", "Bob")
    schedule = await api.schedule(
        "Overrides only", "UTC", [{"rotation_type": "daily", "start_date": "2026-06-01", "members": [ann]}]
    )
    path = f"/api/v1/schedules/{schedule['id']}/overrides"
    first = await api.post(path, {"user_id": bob, "start": "2026-06-02T00:00:00Z", "end": "2026-06-03T00:00:00Z"})
    await api.post(path, {"user_id": bob, "start": "2026-06-03T00:00:00Z", "end": "2026-06-04T00:00:00Z"})
    clash = await client.post(
        path, json={"user_id": ann, "start": "2026-06-01T12:00:00Z", "end": "2026-06-02T00:00:01Z"}
    )
    assert clash.status_code == 409
    assert clash.json()["conflicting_override"]["id"] == first["id"]
    assert "overlap" in clash.json()["detail"]


async def test_layers_can_be_added_replaced_and_removed(api, client):
    ann, bob = await api.users("Ann", "Bob")
    schedule = await api.schedule(
        "Editable", "UTC", [{"rotation_type": "daily", "start_date": "2026-06-01", "members": [ann]}]
    )
    base = f"/api/v1/schedules/{schedule['id']}/layers"
    layer = await api.post(
        base,
        {
            "rotation_type": "hourly",
            "shift_length": 12,
            "start_date": "2026-06-01",
            "handoff_time": "08:00",
            "members": [bob, ann],
        },
    )
    assert layer["priority"] == 1 and [m["name"] for m in layer["members"]] == ["Bob", "Ann"]
    replaced = await client.put(
        f"{base}/{layer['id']}",
        json={"rotation_type": "weekly", "start_date": "2026-06-01", "members": [bob]},
    )
    assert replaced.status_code == 200, replaced.text
    assert replaced.json()["id"] == layer["id"] and replaced.json()["rotation_type"] == "weekly"
    assert replaced.json()["priority"] == 1
    shifts = (await api.shifts(schedule["id"], "2026-06-02T00:00:00Z", "2026-06-03T00:00:00Z"))["shifts"]
    assert [s["user"]["name"] for s in shifts] == ["Bob"]
    assert (await client.delete(f"{base}/{layer['id']}")).status_code == 204
    shifts = (await api.shifts(schedule["id"], "2026-06-02T00:00:00Z", "2026-06-03T00:00:00Z"))["shifts"]
    assert {s["user"]["name"] for s in shifts} == {"Ann"}
    patched = await client.patch(
        f"/api/v1/schedules/{schedule['id']}",
        json={
            "timezone": "Asia/Tokyo",
            "layers": [{"rotation_type": "daily", "start_date": "2026-06-01", "members": [bob, ann]}],
        },
    )
    assert patched.status_code == 200, patched.text
    assert patched.json()["timezone"] == "Asia/Tokyo" and len(patched.json()["layers"]) == 1
    shifts = (await api.shifts(schedule["id"], "2026-06-01T00:00:00Z", "2026-06-02T00:00:00Z"))["shifts"]
    assert shifts[0]["start"] == "2026-06-01T00:00:00Z"  # 09:00 in Tokyo
    assert shifts[0]["user"]["name"] == "Bob"


async def test_shifts_default_to_the_next_week_from_now(api, client, clock):
    ann = (await api.user("Ann"))["id"]
    schedule = await api.schedule(
        "Now", "UTC", [{"rotation_type": "daily", "start_date": "2026-01-01", "members": [ann]}]
    )
    body = (await client.get(f"/api/v1/schedules/{schedule['id']}/shifts")).json()
    assert body["from"] == "2026-03-01T12:00:00Z" and body["to"] == "2026-03-08T12:00:00Z"
    assert len(body["shifts"]) == 1  # one member: one merged shift


async def test_an_override_is_listed_with_who_made_it_changed_and_deleted(api, client, clean_database):
    ann, bob = await api.users("Ann", "Bob")
    schedule = await api.schedule(
        "Undoable", "UTC", [{"rotation_type": "daily", "start_date": "2026-06-01", "members": [ann]}]
    )
    path = f"/api/v1/schedules/{schedule['id']}/overrides"
    rae, as_rae = user_with_token(clean_database, "Rae Responder", role="responder")
    made = await client.post(
        path, json={"user_id": str(rae), "start": "2026-06-02T00:00:00Z", "end": "2026-06-03T00:00:00Z"}, headers=as_rae
    )
    assert made.status_code == 201, made.text
    override = made.json()
    assert override["created_by"]["id"] == str(rae) and override["created_by"]["name"] == "Rae Responder"
    assert override["created_at"]
    listed = (await client.get(path)).json()["items"]
    assert [(o["id"], o["created_by"]["name"]) for o in listed] == [(override["id"], "Rae Responder")]
    one = f"{path}/{override['id']}"
    assert (await client.get(one)).json()["created_by"]["id"] == str(rae)

    # Rae shortens her own cover; what the body leaves out stays.
    changed = await client.patch(one, json={"end": "2026-06-02T12:00:00Z"}, headers=as_rae)
    assert changed.status_code == 200, changed.text
    assert (changed.json()["start"], changed.json()["end"]) == ("2026-06-02T00:00:00Z", "2026-06-02T12:00:00Z")
    body = await api.shifts(schedule["id"], "2026-06-02T00:00:00Z", "2026-06-03T00:00:00Z")
    assert [(s["user"]["name"], s["end"]) for s in body["shifts"]] == [
        ("Rae Responder", "2026-06-02T12:00:00Z"),
        ("Ann", "2026-06-03T00:00:00Z"),
    ]
    # A responder may not hand their cover to someone else, nor change another's.
    handed = await client.patch(one, json={"user_id": bob}, headers=as_rae)
    assert handed.status_code == 403
    # An admin (here the platform) may; a range ending before it starts is refused, an overlap names the other.
    assert (await client.patch(one, json={"user_id": bob})).json()["user"]["name"] == "Bob"
    backwards = await client.patch(one, json={"start": "2026-06-02T13:00:00Z"})
    assert backwards.status_code == 422
    other = await api.post(path, {"user_id": ann, "start": "2026-06-04T00:00:00Z", "end": "2026-06-05T00:00:00Z"})
    clash = await client.patch(one, json={"end": "2026-06-04T01:00:00Z"})
    assert clash.status_code == 409 and clash.json()["conflicting_override"]["id"] == other["id"]
    # Moving it onto its own old range is no overlap with itself.
    assert (await client.patch(one, json={"start": "2026-06-02T01:00:00Z"})).status_code == 200
    missing = await client.patch(f"{path}/00000000-0000-4000-8000-000000000000", json={"end": "2026-06-09T00:00:00Z"})
    assert missing.status_code == 404
    assert (await client.delete(one)).status_code == 204
    assert (await client.get(path)).json()["total"] == 1


async def test_a_layer_without_a_start_date_covers_from_the_moment_it_is_saved(api, client, clock):
    # The clock stands at 2026-03-01 12:00 UTC; a 13:00 Berlin handoff (12:00 UTC) is
    # just now, a 18:00 one is ahead: that layer starts at yesterday's handoff.
    ann, bob = await api.users("Ann", "Bob")
    schedule = await api.post(
        "/api/v1/schedules",
        {
            "name": "From now",
            "timezone": "Europe/Berlin",
            "layers": [{"rotation_type": "daily", "handoff_time": "18:00", "members": [ann, bob]}],
        },
    )
    assert schedule["layers"][0]["start_date"] == "2026-02-28"
    now = await client.get("/api/v1/oncall", params={"at": "2026-03-01T12:00:00Z"})
    [row] = [item for item in now.json()["items"] if item["schedule"]["id"] == schedule["id"]]
    assert row["user"]["name"] == "Ann"
    assert row["until"] == "2026-03-01T17:00:00Z"  # the next handoff
    chosen = await api.post(
        f"/api/v1/schedules/{schedule['id']}/layers",
        {"rotation_type": "daily", "handoff_time": "18:00", "start_date": "2026-03-05", "members": [ann]},
    )
    assert chosen["start_date"] == "2026-03-05", "a later start chosen on purpose stays"


async def test_the_preview_names_every_gap_of_the_next_two_weeks_and_counts_overrides(api, client):
    ann, bob = await api.users("Ann", "Bob")
    form = {
        "timezone": "Europe/Berlin",
        "layers": [
            # Ann days from 1 March; the layer ends on 3 March at 19:00 UTC, leaving the rest uncovered.
            {"rotation_type": "daily", "start_date": "2026-03-01", "members": [ann], "end_at": "2026-03-03T19:00:00Z"},
            # Bob from 5 March 09:00 Berlin (08:00 UTC).
            {"rotation_type": "weekly", "start_date": "2026-03-05", "members": [bob]},
        ],
    }
    answer = await client.post("/api/v1/schedules/preview", json=form)
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert (body["from"], body["to"]) == ("2026-03-01T12:00:00Z", "2026-03-15T12:00:00Z")
    assert body["gaps"] == [{"start": "2026-03-03T19:00:00Z", "end": "2026-03-05T08:00:00Z"}]
    assert [(s["user"]["name"], s["source_type"]) for s in body["shifts"]] == [("Ann", "layer"), ("Bob", "layer")]
    # Saved, with an override across the gap: the preview of the stored schedule counts it.
    schedule = await api.post("/api/v1/schedules", {"name": "Gappy", **form})
    await api.post(
        f"/api/v1/schedules/{schedule['id']}/overrides",
        {"user_id": bob, "start": "2026-03-03T19:00:00Z", "end": "2026-03-04T19:00:00Z"},
    )
    again = (await client.post("/api/v1/schedules/preview", json={**form, "schedule_id": schedule["id"]})).json()
    assert again["gaps"] == [{"start": "2026-03-04T19:00:00Z", "end": "2026-03-05T08:00:00Z"}]
    # The on-call page's shifts name the same gap.
    shifts = await api.shifts(schedule["id"], "2026-03-01T12:00:00Z", "2026-03-15T12:00:00Z")
    assert shifts["gaps"] == again["gaps"]
    no_layers = (await client.post("/api/v1/schedules/preview", json={"timezone": "UTC"})).json()
    assert no_layers["gaps"] == [{"start": "2026-03-01T12:00:00Z", "end": "2026-03-15T12:00:00Z"}]
    unknown = await client.post(
        "/api/v1/schedules/preview",
        json={"timezone": "UTC", "layers": [{"rotation_type": "daily", "members": [str(uuid.uuid4())]}]},
    )
    assert unknown.status_code == 422
    bad_zone = await client.post("/api/v1/schedules/preview", json={"timezone": "Mars/Olympus"})
    assert bad_zone.status_code == 422
