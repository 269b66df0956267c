"""The alerts' partitions worker (workers/partitions.py, migrations 0019_alert_partitions and
0020_alert_retention): an alert of a month without its partition is stored (the default
partition), and the worker's cycle, run while alerts keep coming, moves it into the month it
creates; and an old month is dropped while the app goes on taking alerts."""

import asyncio
import uuid
from datetime import UTC, datetime

import psycopg

from alert_ingestion.metrics import ALERT_PARTITIONS_DROPPED
from alert_ingestion.workers.partitions import AlertPartitions
from platform_common.clock import ManualClock
from platform_testing.partitions import partitions_of

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
        partitions = AlertPartitions(client.app.state.db, clock, ahead=2, retention_days=None, interval=3600, grace=5)

        async def send() -> list[int]:
            statuses = []
            for n in range(20):
                response = await client.post("/api/v1/alerts", json=ALERT | {"message": f"error {n}"})
                statuses.append(response.status_code)
            return statuses

        statuses, (created, _) = await asyncio.gather(send(), partitions.cycle())
        assert statuses == [202] * 20
        assert created == 3
        assert await partitions.cycle() == (0, [])
        # Every alert in its month, the one stored before included; each still opens or joins its incident.
        assert [name for (name,) in db.rows(WHERE)] == ["alerts_p203202"]
        assert db.scalar("SELECT sum(trigger_count) FROM alerts") == 21
        (opener,) = db.rows("SELECT alert_id FROM alert_open_openers")
        assert str(opener.alert_id) == first.json()["alert_id"]


OLD_MONTH = datetime(2024, 5, 1, tzinfo=UTC)
NOW = datetime(2026, 3, 10, 9, 0, tzinfo=UTC)


def _old_month_of_alerts(database_url: str, alerts: int, *, opener: str = "resolved") -> None:
    """An incident resolved in May 2024 with `alerts` alerts, in that month's partition; the
    first opened it and has the status `opener`."""
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute("SELECT alerts_add_partitions(%s, 0)", [OLD_MONTH])
        incident_id = uuid.uuid4()
        conn.execute(
            "INSERT INTO incidents (id, title, service, severity, status, created_at, resolved_at)"
            " VALUES (%s, 'old', 'payments', 'high', 'resolved', %s, %s)",
            [incident_id, OLD_MONTH, OLD_MONTH],
        )
        conn.execute(
            "INSERT INTO alerts (id, incident_id, dedup_scope, format, source, service, severity, message,"
            " fingerprint, status, action, resolved_at, received_at)"
            " SELECT gen_random_uuid(), %s, 'service:payments', 'generic', 'test', 'payments', 'high', 'old',"
            " 'fp-' || n, CASE WHEN n = 1 THEN %s ELSE 'resolved' END,"
            " CASE WHEN n = 1 THEN 'created' ELSE 'correlated' END,"
            " CASE WHEN n > 1 OR %s = 'resolved' THEN %s::timestamptz END,"
            " %s + n * interval '1 second' FROM generate_series(1, %s) n",
            [incident_id, opener, opener, OLD_MONTH, OLD_MONTH, alerts],
        )


async def test_an_old_month_is_dropped_while_alerts_keep_coming(make_client, clean_database, db):
    _old_month_of_alerts(clean_database, alerts=50_000)
    clock = ManualClock(NOW)
    async with make_client(clock=clock, alert_partitions_enabled=False) as client:
        partitions = AlertPartitions(client.app.state.db, clock, ahead=3, retention_days=90, interval=3600, grace=5)
        dropped_before = ALERT_PARTITIONS_DROPPED._value.get()

        async def send() -> list[int]:
            statuses = []
            for n in range(20):
                response = await client.post(
                    "/api/v1/alerts", json=ALERT | {"message": f"disk {n}", "dedup_key": f"k{n}"}
                )
                statuses.append(response.status_code)
            return statuses

        statuses, (_, dropped) = await asyncio.gather(send(), partitions.cycle())

        assert statuses == [202] * 20
        # (Empty old months other tests left behind go too.)
        assert "alerts_p202405" in dropped
        assert ALERT_PARTITIONS_DROPPED._value.get() == dropped_before + len(dropped)
        with psycopg.connect(clean_database) as conn:
            names = partitions_of(conn, "alerts")
        assert "alerts_p202405" not in names
        # The clock's month (March 2026) and three ahead exist for the alerts to come.
        assert {f"alerts_p2026{month:02}" for month in range(3, 7)} <= names
        # Every alert sent meanwhile is stored; the first opened an incident the others joined.
        assert db.scalar("SELECT count(*) FROM alerts WHERE received_at < '2025-01-01'") == 0
        assert db.scalar("SELECT count(*) FROM alerts WHERE message LIKE 'disk %'") == 20
        assert db.scalar("SELECT count(*) FROM alert_open_openers") == 1
        # A second replica's cycle right after finds nothing left to do.
        assert await partitions.cycle() == (0, [])


async def test_an_open_alert_of_a_resolved_incident_does_not_hold_its_month(make_client, clean_database, db):
    # The responder resolved the incident; its source never sent a resolve nor fired again.
    _old_month_of_alerts(clean_database, alerts=3, opener="triggered")
    assert db.scalar("SELECT count(*) FROM alert_open_openers") == 1
    clock = ManualClock(NOW)
    async with make_client(clock=clock, alert_partitions_enabled=False) as client:
        partitions = AlertPartitions(client.app.state.db, clock, ahead=0, retention_days=90, interval=3600, grace=5)
        _, dropped = await partitions.cycle()
    assert "alerts_p202405" in dropped
    # Its guard row went with it: the fingerprint may open an incident again.
    assert db.scalar("SELECT count(*) FROM alert_open_openers") == 0
