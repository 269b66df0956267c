"""Maintenance windows: alerts of a service inside one are stored and visible, open no
incident and owe incident-management nothing; the same alert after the window does."""

from datetime import UTC, datetime, timedelta

from platform_common.clock import ManualClock

ALERT = {"service": "checkout", "severity": "critical", "message": "Checkout pods OOMKilled", "dedup_key": "oom"}
NOW = datetime(2026, 12, 7, 10, 0, tzinfo=UTC)


async def test_an_alert_inside_a_window_is_stored_suppressed_and_after_it_opens_an_incident(
    make_client, db, incident_service
):
    clock = ManualClock(NOW)
    async with make_client(clock=clock) as client:
        end = (NOW + timedelta(minutes=30)).isoformat()
        created = await client.post(
            "/api/v1/maintenance-windows",
            json={"services": ["checkout", "search"], "end": end, "description": "deploying 4.2"},
        )
        assert created.status_code == 201, created.text
        window = created.json()
        assert window["active"] is True and window["start"].startswith("2026-12-07T10:00")
        gauges = (await client.get("/metrics")).text
        assert "maintenance_windows_active 1.0" in gauges and "maintenance_services_silenced 2.0" in gauges

        during = await client.post("/api/v1/alerts", json=ALERT)
        assert during.status_code == 202, during.text
        assert during.json()["action"] == "suppressed" and during.json()["incident_id"] is None
        other = await client.post("/api/v1/alerts", json=ALERT | {"service": "payments"})
        assert other.json()["action"] == "created", "a service outside the window pages as ever"

        stored = (await client.get(f"/api/v1/alerts/{during.json()['alert_id']}")).json()
        assert (stored["action"], stored["incident_id"]) == ("suppressed", None), "stored and visible"
        assert stored["reason"] == (
            f"suppressed: maintenance window 'deploying 4.2' on checkout until 2026-12-07 10:30 UTC"
            f" (window {window['id']})"
        ), "and says which window held it back"
        held = (await client.get("/api/v1/alerts", params={"action": "suppressed"})).json()
        assert [a["id"] for a in held["items"]] == [during.json()["alert_id"]]
        assert db.scalar("SELECT count(*) FROM alert_incident_actions") == 1, "only payments' create is owed"

        clock.advance(timedelta(minutes=31))
        after = await client.post("/api/v1/alerts", json=ALERT)
        assert after.json()["action"] == "created", "the same alert after the window opens an incident"
        await db.incident_eventually(after.json()["incident_id"])
        metrics = (await client.get("/metrics")).text
        assert 'alerts_suppressed_total{service="checkout"} 1.0' in metrics
        assert "maintenance_windows_active 0.0" in metrics, "the window is over"


async def test_windows_are_listed_changed_and_removed(make_client):
    clock = ManualClock(NOW)
    async with make_client(clock=clock) as client:
        later = {
            "services": ["search"],
            "start": (NOW + timedelta(hours=1)).isoformat(),
            "end": (NOW + timedelta(hours=2)).isoformat(),
        }
        scheduled = (await client.post("/api/v1/maintenance-windows", json=later)).json()
        assert scheduled["active"] is False
        assert (await client.get("/api/v1/maintenance-windows", params={"active": True})).json()["total"] == 0
        listed = await client.get("/api/v1/maintenance-windows", params={"service": "search"})
        assert [w["id"] for w in listed.json()["items"]] == [scheduled["id"]]
        assert (await client.get("/api/v1/maintenance-windows", params={"service": "x"})).json()["total"] == 0

        url = f"/api/v1/maintenance-windows/{scheduled['id']}"
        moved = await client.patch(url, json={"start": NOW.isoformat(), "description": "now"})
        assert moved.status_code == 200, moved.text
        assert moved.json()["active"] is True and moved.json()["description"] == "now"
        assert (await client.get("/api/v1/maintenance-windows", params={"active": True})).json()["total"] == 1
        assert (await client.delete(url)).status_code == 204
        assert (await client.get(url)).status_code == 404
        assert (await client.delete(url)).status_code == 404


async def test_bad_windows_are_refused_with_422(make_client):
    clock = ManualClock(NOW)
    async with make_client(clock=clock) as client:
        post = client.post
        past = (NOW - timedelta(minutes=1)).isoformat()
        assert (await post("/api/v1/maintenance-windows", json={"services": ["a"], "end": past})).status_code == 422
        end = (NOW + timedelta(hours=1)).isoformat()
        assert (await post("/api/v1/maintenance-windows", json={"services": [], "end": end})).status_code == 422
        backwards = {"services": ["a"], "start": (NOW + timedelta(hours=2)).isoformat(), "end": end}
        assert (await post("/api/v1/maintenance-windows", json=backwards)).status_code == 422
        assert (await post("/api/v1/maintenance-windows", json={"services": ["a"]})).status_code == 422
