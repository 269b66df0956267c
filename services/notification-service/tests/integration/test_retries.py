"""Retries with exponential backoff, and when to give up."""

import asyncio

from platform_testing import free_port


def webhook(receiver, an_incident, **extra):
    return {
        "event": "triggered",
        "incident": an_incident(),
        "targets": [{"channel": "webhook", "target": f"{receiver.url}/hook"}],
        **extra,
    }


async def test_receiver_failing_twice_then_succeeding_gets_it_on_the_third_try_after_growing_waits(
    client, receiver, settled, an_incident
):
    receiver.script = [500, 503]
    response = await client.post("/api/v1/notify", json=webhook(receiver, an_incident))
    [notification] = response.json()["notifications"]

    row = await settled(client, notification["id"])
    assert row["status"] == "delivered"
    assert row["attempts"] == 3
    assert row["last_error"] is None
    history = row["attempt_history"]
    assert [a["result"] for a in history] == ["retryable_error", "retryable_error", "success"]
    assert [a["response_status"] for a in history] == [500, 503, 200]
    assert history[0]["error"].startswith("HTTP 500")

    # Base 0.2s, equal jitter: the 1st wait is in [0.1, 0.2], the 2nd in [0.2, 0.4].
    times = [r.at for r in receiver.received]
    assert len(times) == 3
    first_wait, second_wait = times[1] - times[0], times[2] - times[1]
    assert first_wait >= 0.1
    assert second_wait >= 0.2
    assert first_wait < 1.0 and second_wait < 1.5  # capped, and nobody waits for the poll alone

    metrics = (await client.get("/metrics")).text
    assert 'notifications_sent_total{channel="webhook",result="retry"}' in metrics


async def test_client_error_from_webhook_fails_at_once(client, receiver, settled, an_incident):
    receiver.script = [404]
    response = await client.post("/api/v1/notify", json=webhook(receiver, an_incident))
    [notification] = response.json()["notifications"]

    row = await settled(client, notification["id"])
    assert row["status"] == "failed"
    assert row["attempts"] == 1
    assert [a["result"] for a in row["attempt_history"]] == ["permanent_error"]
    assert row["last_error"].startswith("HTTP 404")
    assert len(receiver.received) == 1


async def test_rate_limited_webhook_is_retried(client, receiver, settled, an_incident):
    receiver.script = [429]
    response = await client.post("/api/v1/notify", json=webhook(receiver, an_incident))
    row = await settled(client, response.json()["notifications"][0]["id"])
    assert row["status"] == "delivered"
    assert [a["response_status"] for a in row["attempt_history"]] == [429, 200]


async def test_gives_up_after_max_attempts_and_says_so(make_client, receiver, settled, an_incident):
    receiver.script = [503] * 10
    async with make_client(notification_max_attempts=3, notification_retry_base_seconds=0.05) as client:
        response = await client.post("/api/v1/notify", json=webhook(receiver, an_incident))
        [notification] = response.json()["notifications"]
        row = await settled(client, notification["id"])
        assert row["status"] == "failed"
        assert row["attempts"] == row["max_attempts"] == 3
        assert [a["result"] for a in row["attempt_history"]] == ["retryable_error"] * 3
        assert row["last_error"].startswith("HTTP 503")
        assert len(receiver.received) == 3

        failed = (await client.get("/api/v1/notifications", params={"status": "failed"})).json()
        assert [item["id"] for item in failed["items"]] == [notification["id"]]
        metrics = (await client.get("/metrics")).text
        assert 'notifications_sent_total{channel="webhook",result="failed"}' in metrics


async def test_unreachable_webhook_is_retried_as_a_connection_error(make_client, settled, an_incident):
    dead = f"http://127.0.0.1:{free_port()}/hook"
    async with make_client(notification_max_attempts=2, notification_retry_base_seconds=0.05) as client:
        response = await client.post(
            "/api/v1/notify",
            json={"event": "triggered", "incident": an_incident(), "targets": [{"channel": "webhook", "target": dead}]},
        )
        row = await settled(client, response.json()["notifications"][0]["id"])
        assert row["status"] == "failed"
        assert [a["result"] for a in row["attempt_history"]] == ["retryable_error", "retryable_error"]
        assert "ConnectError" in row["last_error"]


async def test_smtp_rejected_recipient_fails_at_once_and_greylisting_is_retried(client, smtp, settled, an_incident):
    response = await client.post(
        "/api/v1/notify",
        json={
            "event": "triggered",
            "incident": an_incident(),
            "targets": [
                {"channel": "email", "target": "reject-me@example.com"},
                {"channel": "email", "target": "busy@example.com"},
            ],
        },
    )
    by_target = {n["target"]: n["id"] for n in response.json()["notifications"]}

    rejected = await settled(client, by_target["reject-me@example.com"])
    assert rejected["status"] == "failed"
    assert rejected["attempts"] == 1
    assert rejected["attempt_history"][0]["response_status"] == 550
    assert "550" in rejected["last_error"]

    history = []
    for _ in range(100):
        greylisted = await client.get(f"/api/v1/notifications/{by_target['busy@example.com']}")
        history = greylisted.json()["attempt_history"]
        if history:
            break
        await asyncio.sleep(0.05)
    assert history[0]["result"] == "retryable_error"
    assert history[0]["response_status"] == 451
