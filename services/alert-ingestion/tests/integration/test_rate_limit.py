"""Over an integration's rate: 429, in each format's shape, nothing stored."""


async def test_pagerduty_throttle_answer(make_client, db, integration_key):
    async with make_client(rate_limit_per_minute=3) as client:
        key = await integration_key(client)
        event = {
            "routing_key": key,
            "event_action": "trigger",
            "dedup_key": "k",
            "payload": {"summary": "s", "source": "h", "severity": "info"},
        }
        statuses = [(await client.post("/v2/enqueue", json=event)).status_code for _ in range(4)]
        throttled = await client.post("/v2/enqueue", json=event)

    assert statuses == [202, 202, 202, 429]
    assert throttled.json()["status"] == "throttle event"
    assert int(throttled.headers["retry-after"]) >= 1
    assert db.scalar("SELECT sum(trigger_count) FROM alerts") == 3  # one alert row, three triggers counted


async def test_webhook_group_over_the_limit_is_refused_whole(make_client, db, integration_key):
    async with make_client(rate_limit_per_minute=3) as client:
        key = await integration_key(client, type_="alertmanager")
        alerts = [{"status": "firing", "labels": {"alertname": f"A{i}"}} for i in range(4)]
        response = await client.post(
            "/api/v1/webhooks/alertmanager", json={"alerts": alerts}, headers={"Authorization": f"Bearer {key}"}
        )
    assert response.status_code == 429
    assert response.json()["retry_after_seconds"] >= 1
    assert response.headers["retry-after"] == str(response.json()["retry_after_seconds"])
    assert db.scalar("SELECT count(*) FROM alerts") == 0
