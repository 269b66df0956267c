"""oncall_schedules_with_gap on /metrics: read from the stored schedules at scrape time."""

from datetime import timedelta

from prometheus_client.parser import text_string_to_metric_families


async def _gauges(client) -> dict[str, float]:
    text = (await client.get("/metrics")).text
    return {
        s.name: s.value
        for family in text_string_to_metric_families(text)
        if family.name.startswith("oncall_schedules")
        for s in family.samples
    }


async def test_schedules_with_a_gap_in_the_next_day_are_counted(api, client, clock):
    # The clock stands at 2026-03-01 12:00 UTC.
    ann, bob = await api.users("Ann", "Bob")
    assert await _gauges(client) == {"oncall_schedules": 0, "oncall_schedules_with_gap": 0}

    await api.schedule("Always", "UTC", [{"rotation_type": "daily", "start_date": "2026-02-01", "members": [ann]}])
    ending = await api.schedule(
        "Ends tonight",
        "UTC",
        [{"rotation_type": "daily", "start_date": "2026-02-01", "end_at": "2026-03-01T20:00:00Z", "members": [bob]}],
    )
    assert await _gauges(client) == {"oncall_schedules": 2, "oncall_schedules_with_gap": 1}

    # An override over the rest of the day closes the gap...
    await api.post(
        f"/api/v1/schedules/{ending['id']}/overrides",
        {"user_id": ann, "start": "2026-03-01T20:00:00Z", "end": "2026-03-02T13:00:00Z"},
    )
    assert (await _gauges(client))["oncall_schedules_with_gap"] == 0
    # ...until the day ahead reaches past its end.
    clock.advance(timedelta(hours=2))
    assert (await _gauges(client))["oncall_schedules_with_gap"] == 1
