"""The timeline's retention (workers/retention.py, migration 0018_retention) drops an
old month while the app goes on opening incidents and writing their timelines."""

import asyncio
import uuid
from datetime import UTC, datetime

import psycopg

from incident_management.metrics import TIMELINE_PARTITIONS_DROPPED
from incident_management.workers.retention import TimelineRetention
from platform_testing.partitions import partitions_of

OLD_MONTH = datetime(2024, 5, 1, tzinfo=UTC)


def _old_month_of_history(database_url: str, rows: int) -> None:
    """An incident resolved in May 2024 (acknowledged after 4 minutes, resolved after 40) with `rows`
    timeline entries, in that month's partition."""
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute("SELECT incident_timeline_add_partitions(%s, 0)", [OLD_MONTH])
        incident_id = uuid.uuid4()
        conn.execute(
            "INSERT INTO incidents (id, title, service, severity, status, created_at, acknowledged_at, resolved_at,"
            " mtta_seconds, mttr_seconds)"
            " VALUES (%s, 'old', 'payments', 'high', 'resolved', %s, %s + interval '4 minutes',"
            " %s + interval '40 minutes', 240, 2400)",
            [incident_id, OLD_MONTH, OLD_MONTH, OLD_MONTH],
        )
        conn.execute(
            "INSERT INTO incident_timeline (incident_id, event_type, actor, message, created_at)"
            " SELECT %s, 'note_added', 'test', 'old', %s + n * interval '1 second' FROM generate_series(1, %s) n",
            [incident_id, OLD_MONTH, rows],
        )


def _partitions(database_url: str) -> set[str]:
    with psycopg.connect(database_url) as conn:
        return partitions_of(conn, "incident_timeline")


async def test_an_old_month_is_dropped_while_incidents_keep_opening(harness):
    _old_month_of_history(harness.database_url, rows=50_000)
    retention = TimelineRetention(harness.app.state.db, harness.clock, days=395, ahead=3, interval=3600, grace=5)
    dropped_before = TIMELINE_PARTITIONS_DROPPED._value.get()

    async def open_incidents() -> list[int]:
        statuses = []
        for n in range(20):
            response = await harness.client.post(
                "/api/v1/incidents", json={"title": f"Checkout errors {n}", "service": "payments", "severity": "high"}
            )
            statuses.append(response.status_code)
        return statuses

    statuses, dropped = await asyncio.gather(open_incidents(), retention.cycle())

    assert statuses == [201] * 20
    # (Empty old months other tests left behind go too.)
    assert "incident_timeline_p202405" in dropped
    assert TIMELINE_PARTITIONS_DROPPED._value.get() == dropped_before + len(dropped)
    partitions = _partitions(harness.database_url)
    assert "incident_timeline_p202405" not in partitions
    # The clock's month (March 2026) and three ahead exist for the entries to come.
    assert {f"incident_timeline_p2026{month:02}" for month in range(3, 7)} <= partitions
    # Every incident opened meanwhile has its timeline.
    listing = (await harness.client.get("/api/v1/incidents", params={"limit": 50})).json()
    opened = [incident for incident in listing["items"] if incident["title"].startswith("Checkout errors")]
    assert len(opened) == 20
    for incident in opened[:3]:
        assert (await harness.events(incident["id"]))[0] == "created"
    # The incident outlives its timeline: that month's MTTA and MTTR are still counted.
    summary = (
        await harness.client.get(
            "/api/v1/incidents/stats/summary", params={"since": "2024-05-01T00:00:00Z", "until": "2024-06-01T00:00:00Z"}
        )
    ).json()
    assert (summary["total"], summary["mtta_seconds"]["p50"], summary["mttr_seconds"]["p50"]) == (1, 240, 2400)
    # A second replica's cycle right after finds nothing left to do.
    assert await retention.cycle() == []
