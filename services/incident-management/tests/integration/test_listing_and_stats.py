"""Listing with filters and stable pagination, the summary report, and the Prometheus metrics."""

from datetime import UTC, datetime, timedelta

from prometheus_client import REGISTRY

from ..conftest import START, uid


async def _seed(harness) -> list[dict]:
    """Six incidents a minute apart over two services, in various states."""
    made = []
    specs = [
        ("payments", "critical", None),
        ("payments", "high", "acknowledged"),
        ("search", "low", "resolved"),
        ("payments", "medium", "resolved"),
        ("search", "critical", None),
        ("search", "info", "acknowledged"),
    ]
    for index, (service, severity, status) in enumerate(specs):
        incident = await harness.create(title=f"incident {index}", service=service, severity=severity)
        harness.clock.advance(timedelta(minutes=1 + index))
        if status:
            assert (await harness.patch(incident["id"], status=status)).status_code == 200
        made.append(incident)
    return made


async def test_filters_sorting_and_pagination(harness):
    made = await _seed(harness)
    client = harness.client

    page = (await client.get("/api/v1/incidents", params={"limit": 4})).json()
    assert page["total"] == 6 and page["limit"] == 4 and page["offset"] == 0
    rest = (await client.get("/api/v1/incidents", params={"limit": 4, "offset": 4})).json()
    ids = [i["id"] for i in page["items"] + rest["items"]]
    assert ids == [i["id"] for i in reversed(made)], "newest first, no overlap, nothing missed"
    offered = {i["status"]: i["next_statuses"] for i in page["items"] + rest["items"]}
    assert offered == {
        "open": ["acknowledged", "resolved"],
        "acknowledged": ["in_progress", "resolved"],
        "resolved": [],
    }

    unresolved = (await client.get("/api/v1/incidents?status=open&status=acknowledged")).json()
    assert unresolved["total"] == 4
    search = (await client.get("/api/v1/incidents", params={"service": "search", "severity": "critical"})).json()
    assert [i["title"] for i in search["items"]] == ["incident 4"]
    by_severity = (await client.get("/api/v1/incidents", params={"sort": "severity"})).json()
    assert [i["severity"] for i in by_severity["items"]][:2] == ["critical", "critical"]
    assert by_severity["items"][-1]["severity"] == "info"
    window = {"since": (START + timedelta(minutes=1)).isoformat(), "until": (START + timedelta(minutes=6)).isoformat()}
    in_window = (await client.get("/api/v1/incidents", params=window)).json()
    assert [i["title"] for i in in_window["items"]] == ["incident 2", "incident 1"]
    naive = (await client.get("/api/v1/incidents", params={"since": "2026-03-02T09:01:00"})).json()
    assert naive["total"] == 5, "a time without offset is read as UTC"
    unassigned = (await client.get("/api/v1/incidents", params={"assignee": "none"})).json()
    assert unassigned["total"] == 6

    for bad in ({"status": "closed"}, {"limit": 0}, {"limit": 1000}, {"offset": -1}, {"sort": "title"}):
        response = await client.get("/api/v1/incidents", params=bad)
        assert response.status_code == 422, bad


async def test_summary_counts_and_response_times(harness):
    await _seed(harness)
    summary = (await harness.client.get("/api/v1/incidents/stats/summary")).json()
    assert summary["total"] == 6
    assert summary["by_status"] == {"open": 2, "acknowledged": 2, "in_progress": 0, "resolved": 2}
    assert summary["by_severity"] == {"critical": 2, "high": 1, "medium": 1, "low": 1, "info": 1}
    # Incident n was responded to (1 + n) minutes after it opened (n = 1, 2, 3, 5).
    mtta = summary["mtta_seconds"]
    assert mtta["count"] == 4
    assert mtta["mean"] == (120 + 180 + 240 + 360) / 4
    assert mtta["p50"] == 210
    assert round(mtta["p95"], 1) == 342.0
    assert summary["mttr_seconds"]["count"] == 2
    assert summary["mttr_seconds"]["mean"] == (180 + 240) / 2

    payments = (await harness.client.get("/api/v1/incidents/stats/summary", params={"service": "payments"})).json()
    assert payments["total"] == 3
    empty = (
        await harness.client.get("/api/v1/incidents/stats/summary", params={"until": "2020-01-01T00:00:00Z"})
    ).json()
    assert empty["total"] == 0 and empty["mtta_seconds"] == {"count": 0, "mean": None, "p50": None, "p95": None}
    backwards = await harness.client.get(
        "/api/v1/incidents/stats/summary", params={"since": "2026-03-02T00:00:00Z", "until": "2026-03-01T00:00:00Z"}
    )
    assert backwards.status_code == 422


async def test_daily_series_fills_every_day_and_counts_days_in_the_time_zone(harness):
    await _seed(harness)  # six incidents on 2026-03-02 from 09:00 UTC
    harness.clock.advance(timedelta(hours=14, minutes=30))  # 23:51 UTC: already 03-03 in Berlin (UTC+1)
    late = await harness.create(title="late", service="payments", severity="critical")
    harness.clock.advance(timedelta(minutes=4))
    assert (await harness.patch(late["id"], status="acknowledged")).status_code == 200
    window = {"since": "2026-03-01T00:00:00Z", "until": "2026-03-04T00:00:00Z"}

    utc = (await harness.client.get("/api/v1/incidents/stats/daily", params=window)).json()
    assert [d["day"] for d in utc["days"]] == ["2026-03-01", "2026-03-02", "2026-03-03"]
    assert [d["total"] for d in utc["days"]] == [0, 7, 0]
    second = utc["days"][1]
    assert second["by_severity"] == {"critical": 3, "high": 1, "medium": 1, "low": 1, "info": 1}
    assert second["mtta_seconds"]["count"] == 5 and second["mtta_seconds"]["p50"] == 240
    assert second["mttr_seconds"] == {"count": 2, "mean": 210.0, "p50": 210.0}
    assert utc["days"][0]["mtta_seconds"] == {"count": 0, "mean": None, "p50": None}

    berlin = (
        await harness.client.get("/api/v1/incidents/stats/daily", params={**window, "timezone": "Europe/Berlin"})
    ).json()
    # 2026-03-01T00:00Z is 01:00 in Berlin: the range touches four Berlin days.
    assert [d["total"] for d in berlin["days"]] == [0, 6, 1, 0]

    critical = (
        await harness.client.get(
            "/api/v1/incidents/stats/daily", params={**window, "severity": "critical", "service": "payments"}
        )
    ).json()
    assert [d["total"] for d in critical["days"]] == [0, 2, 0]
    assert critical["days"][1]["mtta_seconds"]["p50"] == 240.0

    for bad, named in (({"timezone": "Mars/Olympus"}, "time zone"), ({"severity": "urgent"}, "severity")):
        response = await harness.client.get("/api/v1/incidents/stats/daily", params={**window, **bad})
        assert response.status_code == 422 and named in response.text, bad


async def test_daily_series_days_follow_local_midnight_across_a_clock_change(harness):
    """Berlin moved its clocks forward on 2026-03-29 (a day of 23 hours): each incident
    counts on the local day it opened, however long that day was."""
    opened = [
        datetime(2026, 3, 28, 22, 59, tzinfo=UTC),  # 23:59 CET, the 28th
        datetime(2026, 3, 28, 23, 0, tzinfo=UTC),  # 00:00 CET, the 29th
        datetime(2026, 3, 29, 21, 59, tzinfo=UTC),  # 23:59 CEST, still the 29th
        datetime(2026, 3, 29, 22, 0, tzinfo=UTC),  # 00:00 CEST, the 30th
    ]
    for instant in opened:
        harness.clock.advance(instant - harness.clock.now())
        await harness.create(title=f"at {instant:%H:%M}", service="payments", severity="high")
    window = {"since": "2026-03-28T00:00:00Z", "until": "2026-03-31T00:00:00Z", "timezone": "Europe/Berlin"}

    berlin = (await harness.client.get("/api/v1/incidents/stats/daily", params=window)).json()

    assert [(d["day"], d["total"]) for d in berlin["days"]] == [
        ("2026-03-28", 1),
        ("2026-03-29", 2),
        ("2026-03-30", 1),
        ("2026-03-31", 0),
    ]


async def test_prometheus_metrics(harness):
    def sample(name: str, **labels: str) -> float:
        return REGISTRY.get_sample_value(name, labels) or 0.0

    created_before = sample("incidents_created_total", severity="critical")
    mtta_high = sample("incident_mtta_seconds_count", severity="high")
    mtta_info = sample("incident_mtta_seconds_count", severity="info")
    mttr_count = sum(sample("incident_mttr_seconds_count", severity=s) for s in ("low", "medium"))
    mttr_under_5m = sum(sample("incident_mttr_seconds_bucket", severity=s, le="300.0") for s in ("low", "medium"))
    await _seed(harness)
    text = (await harness.client.get("/metrics")).text
    assert 'incidents_open{status="open"} 2.0' in text
    assert 'incidents_open{status="acknowledged"} 2.0' in text
    assert 'incidents_open{status="in_progress"} 0.0' in text
    assert sample("incidents_created_total", severity="critical") - created_before == 2
    # MTTA and MTTR are labelled with the incident's severity.
    assert sample("incident_mtta_seconds_count", severity="high") - mtta_high == 1
    assert sample("incident_mtta_seconds_count", severity="info") - mtta_info == 1
    assert sum(sample("incident_mttr_seconds_count", severity=s) for s in ("low", "medium")) - mttr_count == 2
    # 180 s and 240 s, both under five minutes
    assert sum(sample("incident_mttr_seconds_bucket", severity=s, le="300.0") for s in ("low", "medium")) == (
        mttr_under_5m + 2
    )
    assert 'incident_mtta_seconds_bucket{le="86400.0",severity="critical"}' in text, "every severity from the start"


async def test_the_open_gauge_counts_rows_other_processes_wrote(harness):
    """incidents_open is read from the database: an incident another replica (or
    ingestion's fallback) opened counts at once."""
    import sqlalchemy as sa

    await harness.create()
    engine = sa.create_engine(harness.database_url.replace("postgresql://", "postgresql+psycopg://"))
    with engine.begin() as conn:
        conn.execute(sa.text("UPDATE incidents SET status = 'in_progress', acknowledged_at = created_at"))
    engine.dispose()
    text = (await harness.client.get("/metrics")).text
    assert 'incidents_open{status="in_progress"} 1.0' in text
    assert 'incidents_open{status="open"} 0.0' in text


async def test_detail_shows_alerts_notes_timeline_and_pages(harness):
    import uuid

    import sqlalchemy as sa

    harness.oncall.configure("payments", levels=[(5, ["alice"])])
    incident = await harness.create()
    await harness.tick()
    engine = sa.create_engine(harness.database_url.replace("postgresql://", "postgresql+psycopg://"))
    with engine.begin() as conn:
        # alert-ingestion owns this table; fill whichever of its columns exist.
        alerts = sa.Table(
            "alerts",
            sa.MetaData(),
            sa.Column("id", sa.Uuid, primary_key=True),
            sa.Column("incident_id", sa.Uuid),
            autoload_with=conn,
        )
        for n in range(2):
            row = {
                "id": uuid.uuid4(),
                "incident_id": uuid.UUID(incident["id"]),
                "dedup_scope": "service:payments",
                "format": "generic",
                "source": "prometheus",
                "service": "payments",
                "severity": "high",
                "message": f"alert {n}",
                "labels": {"env": "prod"},
                "fingerprint": f"fp{n}",
                "status": "triggered",
                "action": "created" if n == 0 else "correlated",
                "received_at": START + timedelta(seconds=n),
            }
            conn.execute(alerts.insert().values({k: v for k, v in row.items() if k in alerts.c}))
    engine.dispose()
    detail = await harness.detail(incident["id"])
    assert [a["message"] for a in detail["alerts"]] == ["alert 1", "alert 0"]
    assert detail["alerts"][0]["labels"] == {"env": "prod"}
    assert detail["alerts"][0]["incident_id"] == incident["id"]
    assert detail["alerts_truncated"] is False
    assert detail["pages"][0]["recipient"] == uid("alice")
    assert detail["pages"][0]["status"] == "sent"
    # The alerts (read from ingestion's view, id null) take their place by time.
    timeline = [(e["event_type"], e["id"] is None) for e in detail["timeline"]]
    assert timeline == [
        ("created", False),
        ("assigned", False),
        ("paged", False),
        ("alert_attached", True),
        ("alert_attached", True),
    ]
    assert detail["alert_count"] == 2
    assert (await harness.client.get(f"/api/v1/incidents/{uuid.uuid4()}")).status_code == 404
