"""Heartbeat monitors: a late heartbeat raises one alert through the ordinary path (an
incident opens), its next ping resolves it; pings need a key of the heartbeat's service."""

from datetime import UTC, datetime, timedelta

from alert_ingestion.workers.heartbeats import HeartbeatWatch
from platform_common.clock import ManualClock

NOW = datetime(2026, 12, 7, 10, 0, tzinfo=UTC)


async def test_a_late_heartbeat_opens_an_incident_and_its_next_ping_resolves_it(make_client, db, integration_key):
    clock = ManualClock(NOW)
    async with make_client(clock=clock, heartbeat_watch_enabled=False) as client:
        made = await client.post(
            "/api/v1/heartbeats", json={"service": "monitoring", "name": "prometheus-watchdog", "interval_seconds": 60}
        )
        assert made.status_code == 201, made.text
        heartbeat = made.json()
        assert heartbeat["ping_url"] == f"/api/v1/heartbeats/{heartbeat['id']}/ping"
        key = await integration_key(client, "monitoring", "alertmanager")
        other = await integration_key(client, "checkout", "generic")
        ping = {"Authorization": f"Bearer {key}"}
        watch = HeartbeatWatch(client.app.state.db, client.app.state.ingestor, interval=1, grace=1)

        clock.advance(timedelta(seconds=50))
        pinged = await client.post(heartbeat["ping_url"], json={"receiver": "watchdog"}, headers=ping)
        assert pinged.status_code == 200 and pinged.json()["recovered"] is False
        clock.advance(timedelta(seconds=50))  # 10:01:40, due 10:01:50
        await watch._cycle()
        assert db.scalar("SELECT count(*) FROM alerts") == 0, "pinged in time: nothing"
        assert "heartbeats_late 0.0" in (await client.get("/metrics")).text

        clock.advance(timedelta(seconds=20))  # 10:02:00: 70 s since the last ping
        await watch._cycle()
        await watch._cycle()
        [alert] = db.rows("SELECT message, incident_id, service FROM alerts")
        assert alert.message == "heartbeat prometheus-watchdog missed since 10:01 UTC" and alert.service == "monitoring"
        incident = await db.incident_eventually(alert.incident_id)
        assert incident.status == "open" and incident.severity == "critical"
        assert (await client.get(f"/api/v1/heartbeats/{heartbeat['id']}")).json()["missed_since"] is not None
        assert "heartbeats_late 1.0" in (await client.get("/metrics")).text, "the dashboard's count of late ones"

        refused = await client.post(heartbeat["ping_url"], headers={"Authorization": f"Bearer {other}"})
        assert refused.status_code == 403, "a key of another service pings nothing"
        assert (await client.post(heartbeat["ping_url"], headers={"Authorization": "Bearer nope"})).status_code == 401

        back = await client.post(heartbeat["ping_url"], headers=ping)
        assert back.json()["recovered"] is True
        assert db.scalar("SELECT status FROM alerts") == "resolved"
        assert (await client.get(f"/api/v1/heartbeats/{heartbeat['id']}")).json()["missed_since"] is None
        assert "heartbeats_late 0.0" in (await client.get("/metrics")).text


async def test_heartbeats_are_listed_changed_removed_and_checked(make_client):
    async with make_client(clock=ManualClock(NOW), heartbeat_watch_enabled=False) as client:
        body = {"service": "monitoring", "name": "watchdog", "interval_seconds": 60}
        made = (await client.post("/api/v1/heartbeats", json=body)).json()
        assert (await client.post("/api/v1/heartbeats", json=body)).status_code == 409
        assert (await client.post("/api/v1/heartbeats", json=body | {"interval_seconds": 5})).status_code == 422
        assert (await client.get("/api/v1/heartbeats", params={"service": "monitoring"})).json()["total"] == 1
        url = f"/api/v1/heartbeats/{made['id']}"
        changed = await client.patch(url, json={"interval_seconds": 300})
        assert changed.json()["due_at"].startswith("2026-12-07T10:05")
        assert (await client.delete(url)).status_code == 204
        assert (await client.get(url)).status_code == 404
