"""PostgreSQL group commit: concurrent alerts share transactions and still
count exactly, in the order of the rules (dedup, correlate, create)."""

import asyncio


async def batches_written(client) -> float:
    metrics = (await client.get("/metrics")).text
    line = next(line for line in metrics.splitlines() if line.startswith("alert_ingest_batch_size_count"))
    return float(line.split()[-1])


async def test_concurrent_alerts_are_batched_and_counted_exactly(client, db, incident_service):
    # One alert first, so the burst has an incident to join.
    first = await client.post("/api/v1/alerts", json={"service": "api", "severity": "high", "message": "first"})
    first = first.json()
    before = await batches_written(client)
    burst = [
        client.post(
            "/api/v1/alerts",
            json={"service": "api", "severity": "high", "message": f"m{i % 7}", "dedup_key": f"k{i % 7}"},
        )
        for i in range(60)
    ]
    responses = await asyncio.gather(*burst)

    assert {r.status_code for r in responses} == {202}
    assert {r.json()["action"] for r in responses} == {"correlated", "deduplicated"}
    assert {r.json()["incident_id"] for r in responses} == {first["incident_id"]}
    incidents = await db.all_incidents_opened()
    assert [(str(i.id), i.alert_count) for i in incidents] == [(first["incident_id"], 61)]
    # One opener, one alert per other key correlated, the rest repeats counted on their key's row.
    actions = dict(db.rows("SELECT action, sum(trigger_count) FROM alerts GROUP BY action"))
    assert actions == {"created": 1, "correlated": 60}
    assert db.scalar("SELECT count(*) FROM alerts") == 8
    # The timeline has the first alert and the seven correlated ones, no repeats.
    incident = await incident_service.incident(first["incident_id"])
    assert [e["event_type"] for e in incident["timeline"]].count("alert_attached") == 8
    assert incident["alert_count"] == 61
    assert await batches_written(client) - before < 60  # some alerts shared a transaction


async def test_burst_needing_new_incidents_creates_one_per_service_and_severity(client, db):
    burst = [
        client.post("/api/v1/alerts", json={"service": f"svc{i % 3}", "severity": "low", "message": f"x{i}"})
        for i in range(45)
    ]
    responses = await asyncio.gather(*burst)
    assert {r.status_code for r in responses} == {202}
    assert [r.json()["action"] for r in responses].count("created") == 3
    incidents = await db.all_incidents_opened()
    assert sorted((i.service, i.alert_count) for i in incidents) == [("svc0", 15), ("svc1", 15), ("svc2", 15)]
    # Every alert names the incident of its service, the one that was opened.
    named = {(r.json()["incident_id"], f"svc{i % 3}") for i, r in enumerate(responses)}
    assert named == {(str(i.id), i.service) for i in incidents}


async def test_with_correlation_off_a_hundred_distinct_alerts_sent_at_once_open_a_hundred_incidents(make_client, db):
    async with make_client(correlation_window_minutes=0) as client:
        before = await batches_written(client)
        burst = [
            client.post(
                "/api/v1/alerts",
                json={"service": "api", "severity": "high", "message": f"distinct {i}", "dedup_key": f"distinct-{i}"},
            )
            for i in range(100)
        ]
        responses = await asyncio.gather(*burst)
        assert {r.status_code for r in responses} == {202}
        assert [r.json()["action"] for r in responses] == ["created"] * 100
        assert len({r.json()["incident_id"] for r in responses}) == 100
        assert len(await db.all_incidents_opened()) == 100
        assert await batches_written(client) - before < 100  # they did share transactions
