"""PostgreSQL group commit: concurrent alerts share transactions and still
count exactly, in the order of the rules (dedup, correlate, create)."""

import asyncio


async def batches_written(client) -> float:
    metrics = (await client.get("/metrics")).text
    line = next(line for line in metrics.splitlines() if line.startswith("alert_ingest_batch_size_count"))
    return float(line.split()[-1])


async def test_concurrent_alerts_are_batched_and_counted_exactly(client, db):
    # One alert first, so the burst has an incident to join.
    await client.post("/api/v1/alerts", json={"service": "api", "severity": "high", "message": "first"})
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
    assert db.scalar("SELECT count(*) FROM incidents") == 1
    assert db.scalar("SELECT alert_count FROM incidents") == 61
    assert db.scalar("SELECT count(*) FROM alerts WHERE action = 'correlated'") == 7
    # The timeline has the first alert and the seven correlated ones, no repeats.
    assert db.scalar("SELECT count(*) FROM incident_timeline WHERE event_type = 'alert_attached'") == 8
    assert await batches_written(client) - before < 60  # some alerts shared a transaction


async def test_burst_needing_new_incidents_creates_one_per_service_and_severity(client, db):
    burst = [
        client.post("/api/v1/alerts", json={"service": f"svc{i % 3}", "severity": "low", "message": f"x{i}"})
        for i in range(45)
    ]
    responses = await asyncio.gather(*burst)
    assert {r.status_code for r in responses} == {202}
    assert db.scalar("SELECT count(*) FROM incidents") == 3
    assert db.scalar("SELECT sum(alert_count) FROM incidents") == 45
    assert sorted(r.json()["action"] for r in responses).count("created") == 3
