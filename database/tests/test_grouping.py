"""Grouping people can see and correct (migration 0013_grouping), on PostgreSQL:
repeats counted on one row, the reason stored with each alert, the grouping
settings a service carries (read by ingest_alerts() through oncall-service's
view service_grouping), and regroup_alerts(), the move behind merge and split,
run as incident-management's role, racing a new alert."""

import json
import threading
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import psycopg
import pytest

from platform_testing import as_service

T0 = datetime(2026, 12, 1, 3, 0, tzinfo=UTC)


@pytest.fixture
def db(clean_database: str) -> Iterator[psycopg.Connection]:
    with psycopg.connect(clean_database, autocommit=True) as conn:
        yield conn


def ingest(
    db: psycopg.Connection,
    fp: str,
    *,
    service: str = "api",
    severity: str = "critical",
    labels: dict | None = None,
    at: datetime = T0,
    default_window: float = 5,
) -> dict:
    """One alert through the rule, as alert-ingestion's role; what it answered."""
    row = db.execute(
        "SELECT outcome, incident, owed, alert FROM ingest_alerts("
        "%s::uuid[], %s::uuid[], %s::text[], %s::text[], %s::text[], %s::text[], %s::text[], %s::text[],"
        " %s::json[], %s::text[], %s::text[], %s::timestamptz[], %s::json[], %s, %s)",
        [
            [uuid.uuid4()],
            [None],
            ["scope"],
            ["generic"],
            ["test"],
            [service],
            [severity],
            [f"alert {fp}"],
            [json.dumps(labels or {})],
            [fp],
            [None],
            [None],
            [None],
            at,
            default_window,
        ],
    ).fetchone()
    return dict(zip(("outcome", "incident", "owed", "alert"), row, strict=True))


def alert(db: psycopg.Connection, alert_id: uuid.UUID) -> dict:
    row = db.execute(
        "SELECT incident_id, trigger_count, last_seen_at, reason, reason_alert_id FROM alerts WHERE id = %s",
        [alert_id],
    ).fetchone()
    return dict(zip(("incident", "count", "last_seen_at", "reason", "matched"), row, strict=True))


def service(
    db: psycopg.Connection,
    *,
    correlation_window_minutes: int | None = None,
    grouping_fields: tuple[str, ...] = (),
    join_acknowledged: bool = True,
) -> None:
    """Service "api" with its grouping settings, as oncall-service stores them."""
    db.execute(
        "INSERT INTO services (id, name, correlation_window_minutes, grouping_fields, join_acknowledged)"
        " VALUES (gen_random_uuid(), 'api', %s, %s, %s)",
        [correlation_window_minutes, list(grouping_fields), join_acknowledged],
    )


def open_incident(db: psycopg.Connection, incident: uuid.UUID, status: str = "open") -> None:
    db.execute("SELECT open_incident(%s, 't', '', 'api', NULL, 'critical', 'api', 'test', %s)", [incident, T0])
    if status != "open":
        db.execute("UPDATE incidents SET status = %s, acknowledged_at = %s WHERE id = %s", [status, T0, incident])


def test_repeats_of_a_dedup_key_count_on_one_row(db: psycopg.Connection) -> None:
    first = ingest(db, "fp-1")
    for minute in (1, 2, 3):
        repeat = ingest(db, "fp-1", at=T0 + timedelta(minutes=minute))
        assert (repeat["outcome"], repeat["alert"], repeat["incident"]) == (
            "deduplicated",
            first["alert"],
            first["incident"],
        )
    assert db.execute("SELECT count(*) FROM alerts").fetchone() == (1,)
    stored = alert(db, first["alert"])
    assert stored["count"] == 4 and stored["last_seen_at"] == T0 + timedelta(minutes=3)
    assert stored["reason"] == "first alert"


def test_each_alert_says_why_it_is_in_its_incident(db: psycopg.Connection) -> None:
    first = ingest(db, "fp-1")
    joined = ingest(db, "fp-2", at=T0 + timedelta(minutes=2))
    assert joined["outcome"] == "correlated" and joined["incident"] == first["incident"]
    stored = alert(db, joined["alert"])
    assert stored["reason"] == 'same service and severity within 5 min of "alert fp-1"'
    assert stored["matched"] == first["alert"]


def test_a_service_window_of_0_never_groups_though_the_default_would(db: psycopg.Connection) -> None:
    service(db, correlation_window_minutes=0)
    first = ingest(db, "fp-1", default_window=5)
    assert ingest(db, "fp-2", default_window=5)["incident"] != first["incident"]


def test_a_service_window_replaces_the_default(db: psycopg.Connection) -> None:
    service(db, correlation_window_minutes=10)
    first = ingest(db, "fp-1", default_window=5)
    later = ingest(db, "fp-2", at=T0 + timedelta(minutes=8), default_window=5)
    assert later["incident"] == first["incident"]
    assert "within 10 min of" in alert(db, later["alert"])["reason"]
    # Another service without settings keeps the default window.
    other = ingest(db, "fp-3", service="web")
    assert ingest(db, "fp-4", service="web", at=T0 + timedelta(minutes=8))["incident"] != other["incident"]


def test_grouping_fields_group_only_alerts_whose_fields_are_equal(db: psycopg.Connection) -> None:
    service(db, grouping_fields=("labels.alertname", "labels.instance"))
    disk = ingest(db, "fp-1", labels={"alertname": "DiskFull", "instance": "db-02"})
    latency = ingest(db, "fp-2", labels={"alertname": "SLOBurn", "instance": "db-02"})
    assert latency["outcome"] == "created" and latency["incident"] != disk["incident"]
    same = ingest(db, "fp-3", labels={"alertname": "DiskFull", "instance": "db-02", "mount": "/var"})
    assert same["outcome"] == "correlated" and same["incident"] == disk["incident"]
    assert alert(db, same["alert"])["reason"] == (
        'same service, severity and labels.alertname=DiskFull, labels.instance=db-02 within 5 min of "alert fp-1"'
    )


def test_an_acknowledged_incident_takes_a_new_alert_says_so_and_owes_a_notice(db: psycopg.Connection) -> None:
    first = ingest(db, "fp-1")
    open_incident(db, first["incident"], status="acknowledged")
    joined = ingest(db, "fp-2")
    assert joined["incident"] == first["incident"] and joined["owed"] is not None
    assert alert(db, joined["alert"])["reason"].endswith("(joined while the incident was acknowledged)")
    assert db.execute(
        "SELECT action, alert_id FROM alert_incident_actions WHERE id = %s", [joined["owed"]]
    ).fetchone() == (
        "alert_joined",
        joined["alert"],
    )


def test_a_service_may_keep_new_alerts_out_of_acknowledged_incidents(db: psycopg.Connection) -> None:
    service(db, join_acknowledged=False)
    first = ingest(db, "fp-1")
    open_incident(db, first["incident"], status="acknowledged")
    other = ingest(db, "fp-2")
    assert other["outcome"] == "created" and other["incident"] != first["incident"]
    # A repeat of an alert already in it still counts there: it is the same alert.
    assert ingest(db, "fp-1")["incident"] == first["incident"]


def regroup(conn: psycopg.Connection, sources: list[uuid.UUID], to: uuid.UUID, alerts: list | None = None) -> list:
    return conn.execute(
        "SELECT alert, from_incident FROM regroup_alerts(%s::uuid[], %s::text[], %s::uuid[], %s)",
        [sources, [f"merged from {s}" for s in sources], alerts, to],
    ).fetchall()


def test_regroup_moves_all_alerts_of_the_merged_and_only_the_chosen_of_a_split(
    db: psycopg.Connection, clean_database: str
) -> None:
    a, b = ingest(db, "fp-1"), ingest(db, "fp-2", severity="high")
    b2 = ingest(db, "fp-3", severity="high")
    for x in (a, b):
        open_incident(db, x["incident"])
    with psycopg.connect(as_service(clean_database, "incident_management"), autocommit=True) as im:
        moved = regroup(im, [b["incident"]], a["incident"])
        assert sorted(m for m, _ in moved) == sorted([b["alert"], b2["alert"]])
        assert alert(db, b["alert"])["reason"] == f"merged from {b['incident']}"
        # Split one out again into a new incident.
        new = uuid.uuid4()
        open_incident(db, new)
        assert regroup(im, [a["incident"]], new, [b2["alert"]]) == [(b2["alert"], a["incident"])]
        # ingestion's alerts stay ingestion's: the role may not write them itself.
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            im.execute("UPDATE alerts SET incident_id = %s", [new])
    counts = dict(db.execute("SELECT incident_id, count(*) FROM alerts GROUP BY 1").fetchall())
    assert counts == {a["incident"]: 2, new: 1}


@pytest.mark.parametrize("arriving", [("repeat",), ("new",), ("repeat", "new")])
def test_alerts_arriving_during_a_merge_land_in_exactly_one_incident(
    db: psycopg.Connection, clean_database: str, arriving: tuple[str, ...]
) -> None:
    survivor, merged = ingest(db, "fp-1"), ingest(db, "fp-2", severity="high")
    for x in (survivor, merged):
        open_incident(db, x["incident"])
    results: dict[str, dict] = {}

    def send(name: str, fp: str) -> None:
        with psycopg.connect(as_service(clean_database, "alert_ingestion"), autocommit=True) as ing:
            results[name] = ingest(ing, fp, severity="high")

    with psycopg.connect(as_service(clean_database, "incident_management")) as im:
        # The merge's transaction: alerts moved, the merged incident resolved, not yet committed.
        regroup(im, [merged["incident"]], survivor["incident"])
        im.execute(
            "UPDATE incidents SET status = 'resolved', resolved_at = %s, merged_into = %s WHERE id = %s",
            [T0, survivor["incident"], merged["incident"]],
        )
        # Meanwhile a repeat of the merged incident's alert, and a new alert of its service and severity.
        fingerprints = {"repeat": "fp-2", "new": "fp-9"}
        threads = [threading.Thread(target=send, args=(name, fingerprints[name])) for name in arriving]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=1)
        assert all(t.is_alive() for t in threads), "the rule waits for the merge's locks"
        im.commit()
        for t in threads:
            t.join(timeout=10)
    assert {r["incident"] for r in results.values()} == {survivor["incident"]}
    if "repeat" in results:
        assert results["repeat"]["alert"] == merged["alert"]
        assert alert(db, merged["alert"])["count"] == 2
    if "new" in results:
        assert results["new"]["outcome"] == "correlated"
    # Every alert is where the merge put it: none in the resolved incident.
    where = set(db.execute("SELECT incident_id FROM alerts").fetchall())
    assert where == {(survivor["incident"],)}
