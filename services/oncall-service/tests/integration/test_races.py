"""Concurrent writers: the database, not luck, keeps overrides from overlapping."""

import asyncio


async def test_concurrent_overlapping_overrides_admit_exactly_one(api, client):
    users = await api.users("Ann", "Bob", "Cy", "Dee", "Eve", "Fay")
    schedule = await api.schedule(
        "Contended", "UTC", [{"rotation_type": "daily", "start_date": "2026-03-01", "members": users[:1]}]
    )
    path = f"/api/v1/schedules/{schedule['id']}/overrides"

    async def claim(user_id: str, hour: int):
        body = {"user_id": user_id, "start": f"2026-03-10T{hour:02d}:00:00Z", "end": "2026-03-10T20:00:00Z"}
        return await client.post(path, json=body)

    responses = await asyncio.gather(*(claim(user, 8 + n) for n, user in enumerate(users[1:])))
    assert sorted(r.status_code for r in responses) == [201, 409, 409, 409, 409]
    stored = (await client.get(path)).json()
    assert stored["total"] == 1
