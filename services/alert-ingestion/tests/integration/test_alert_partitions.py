"""The alerts' partitions worker (workers/partitions.py, migration 0019_alert_partitions):
an alert of a month without its partition is stored (the default partition), and the
worker's cycle, run while alerts keep coming, moves it into the month it creates."""

import asyncio
from datetime import UTC, datetime

from alert_ingestion.workers.partitions import AlertPartitions
from platform_common.clock import ManualClock

# A month no test has made a partition for.
LATER = datetime(2032, 2, 10, 9, 0, tzinfo=UTC)
ALERT = {"service": "checkout", "severity": "high"}
WHERE = "SELECT DISTINCT tableoid::regclass::text FROM alerts"


async def test_a_month_is_made_while_alerts_keep_coming_and_takes_its_alerts(make_client, db):
    clock = ManualClock(LATER)
    async with make_client(clock=clock, alert_partitions_enabled=False) as client:
        first = await client.post("/api/v1/alerts", json=ALERT | {"message": "before the month was made"})
        assert first.status_code == 202, first.text
        assert db.scalar(WHERE) == "alerts_default"
        partitions = AlertPartitions(client.app.state.db, clock, ahead=2, interval=3600, grace=5)

        async def send() -> list[int]:
            statuses = []
            for n in range(20):
                response = await client.post("/api/v1/alerts", json=ALERT | {"message": f"error {n}"})
                statuses.append(response.status_code)
            return statuses

        statuses, created = await asyncio.gather(send(), partitions.cycle())
        assert statuses == [202] * 20
        assert created == 3
        assert await partitions.cycle() == 0
        # Every alert in its month, the one stored before included; each still opens or joins its incident.
        assert [name for (name,) in db.rows(WHERE)] == ["alerts_p203202"]
        assert db.scalar("SELECT sum(trigger_count) FROM alerts") == 21
        (opener,) = db.rows("SELECT alert_id FROM alert_open_openers")
        assert str(opener.alert_id) == first.json()["alert_id"]
