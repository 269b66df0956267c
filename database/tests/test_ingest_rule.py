"""The dedup and correlation rule, driven through its one implementation:
ingest_alerts() (database/sql/0013_grouping/ingest_alerts.sql) and close_alerts()
(database/sql/0006_one_owner/ingest_alerts.sql), on PostgreSQL.
Each test is a row of the decision tables written beside the function."""

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import psycopg
import pytest

T0 = datetime(2026, 12, 1, 3, 0, tzinfo=UTC)
WINDOW = timedelta(minutes=5)


@pytest.fixture
def db(clean_database: str) -> Iterator[psycopg.Connection]:
    with psycopg.connect(clean_database, autocommit=True) as conn:
        yield conn


def ingest(
    db: psycopg.Connection,
    *alerts: tuple[str, str, str, str],
    at: datetime = T0,
    window: timedelta = WINDOW,
) -> list[tuple[str, uuid.UUID, uuid.UUID | None]]:
    """Alerts as (scope, fingerprint, service, severity), in one call; (outcome, incident, owed) each."""
    n = len(alerts)
    rows = db.execute(
        "SELECT ord, outcome, incident, owed FROM ingest_alerts("
        "%s::uuid[], %s::uuid[], %s::text[], %s::text[], %s::text[], %s::text[], %s::text[], %s::text[],"
        " %s::json[], %s::text[], %s::text[], %s::timestamptz[], %s::json[], %s, %s)",
        [
            [uuid.uuid4() for _ in range(n)],
            [None] * n,
            [a[0] for a in alerts],
            ["generic"] * n,
            ["test"] * n,
            [a[2] for a in alerts],
            [a[3] for a in alerts],
            [f"message {a[1]}" for a in alerts],
            ["{}"] * n,
            [a[1] for a in alerts],
            [None] * n,
            [None] * n,
            [None] * n,
            at,
            window.total_seconds() / 60,  # the default window; these services set none of their own
        ],
    ).fetchall()
    return [(outcome, incident, owed) for _, outcome, incident, owed in sorted(rows)]


def close(db: psycopg.Connection, scope: str, fp: str, *, acknowledge: bool, auto_resolve: bool = True) -> list:
    return db.execute(
        "SELECT alert, incident, owed FROM close_alerts(%s, %s, %s, %s, %s)", [scope, fp, acknowledge, auto_resolve, T0]
    ).fetchall()


def open_incident(db: psycopg.Connection, incident: uuid.UUID) -> None:
    db.execute("SELECT open_incident(%s, 't', '', 'api', NULL, 'critical', 'api', 'test', %s)", [incident, T0])


def resolve_incident(db: psycopg.Connection, incident: uuid.UUID) -> None:
    db.execute("UPDATE incidents SET status = 'resolved', resolved_at = %s WHERE id = %s", [T0, incident])


def owed(db: psycopg.Connection) -> list[tuple[str, uuid.UUID]]:
    return db.execute("SELECT action, incident_id FROM alert_incident_actions ORDER BY seq").fetchall()


A = ("scope-a", "fp-1", "api", "critical")
SAME_SERVICE = ("scope-a", "fp-2", "api", "critical")


def test_row_3_a_first_alert_reserves_an_incident_and_owes_its_create(db: psycopg.Connection) -> None:
    [(outcome, incident, owed_id)] = ingest(db, A)
    assert outcome == "created" and owed_id is not None
    assert owed(db) == [("create", incident)]
    # The incident itself is incident-management's to write.
    assert db.execute("SELECT count(*) FROM incidents").fetchone() == (0,)


def test_row_1_a_repeat_is_deduplicated_while_the_incident_is_being_opened_and_after(db: psycopg.Connection) -> None:
    [(_, incident, _)] = ingest(db, A)
    assert ingest(db, A) == [("deduplicated", incident, None)]
    open_incident(db, incident)
    assert ingest(db, A) == [("deduplicated", incident, None)]
    assert owed(db) == [("create", incident)]


def test_row_2_another_fingerprint_of_the_service_and_severity_is_correlated(db: psycopg.Connection) -> None:
    [(_, incident, _)] = ingest(db, A)
    assert ingest(db, SAME_SERVICE, at=T0 + WINDOW) == [("correlated", incident, None)]


@pytest.mark.parametrize(
    ("other", "at"),
    [
        (SAME_SERVICE, T0 + WINDOW + timedelta(seconds=1)),  # outside the window
        (("scope-a", "fp-2", "api", "high"), T0),  # another severity
        (("scope-a", "fp-2", "web", "critical"), T0),  # another service
    ],
)
def test_row_3_outside_the_window_or_of_another_service_or_severity_opens_another(
    db: psycopg.Connection, other: tuple[str, str, str, str], at: datetime
) -> None:
    [(_, first, _)] = ingest(db, A)
    [(outcome, second, _)] = ingest(db, other, at=at)
    assert outcome == "created" and second != first


def test_a_fingerprint_is_deduplicated_only_within_its_scope(db: psycopg.Connection) -> None:
    [(_, first, _)] = ingest(db, A)
    # Another integration's alert with the same fingerprint is not a repeat; it correlates by service.
    assert ingest(db, ("scope-b", "fp-1", "api", "critical")) == [("correlated", first, None)]


def test_after_a_responder_resolved_the_incident_a_repeat_opens_a_new_one_and_ends_the_old_alerts(
    db: psycopg.Connection,
) -> None:
    [(_, first, _)] = ingest(db, A)
    open_incident(db, first)
    resolve_incident(db, first)
    [(outcome, second, _)] = ingest(db, A)
    assert outcome == "created" and second != first
    assert db.execute("SELECT status FROM alerts WHERE incident_id = %s", [first]).fetchall() == [("resolved",)]


def test_an_incident_being_resolved_by_ingestion_takes_no_new_correlations(db: psycopg.Connection) -> None:
    [(_, first, _)] = ingest(db, A)
    close(db, "scope-a", "fp-1", acknowledge=False)
    assert owed(db)[-1] == ("resolve", first)
    [(outcome, second, _)] = ingest(db, SAME_SERVICE)
    assert outcome == "created" and second != first


def test_one_call_applies_the_rule_in_order(db: psycopg.Connection) -> None:
    [(o1, incident, _), (o2, i2, _), (o3, i3, _)] = ingest(db, A, SAME_SERVICE, A)
    assert (o1, o2, o3) == ("created", "correlated", "deduplicated")
    assert i2 == i3 == incident


def test_acknowledge_changes_the_alerts_and_owes_an_acknowledge_to_an_open_incident(db: psycopg.Connection) -> None:
    [(_, incident, _)] = ingest(db, A)
    rows = close(db, "scope-a", "fp-1", acknowledge=True)
    assert len([r for r in rows if r[0] is not None]) == 1
    assert owed(db) == [("create", incident), ("acknowledge", incident)]
    assert db.execute("SELECT status FROM alerts").fetchall() == [("acknowledged",)]
    # Nothing left to acknowledge: dropped.
    assert close(db, "scope-a", "fp-1", acknowledge=True) == []


def test_resolve_owes_a_resolve_only_when_no_alert_of_the_incident_stays_open(db: psycopg.Connection) -> None:
    [(_, incident, _)] = ingest(db, A)
    ingest(db, SAME_SERVICE)
    close(db, "scope-a", "fp-1", acknowledge=False)
    assert [action for action, _ in owed(db)] == ["create"]
    close(db, "scope-a", "fp-2", acknowledge=False)
    assert owed(db)[-1] == ("resolve", incident)


def test_resolve_owes_nothing_when_auto_resolve_is_off(db: psycopg.Connection) -> None:
    ingest(db, A)
    close(db, "scope-a", "fp-1", acknowledge=False, auto_resolve=False)
    assert [action for action, _ in owed(db)] == ["create"]


def test_an_unknown_key_is_dropped(db: psycopg.Connection) -> None:
    assert close(db, "scope-a", "nothing", acknowledge=False) == []


def test_postgresql_refuses_a_second_open_incident_for_one_fingerprint(db: psycopg.Connection) -> None:
    ingest(db, A)
    with pytest.raises(psycopg.errors.UniqueViolation, match="alert_open_openers_pkey"):
        db.execute(
            "INSERT INTO alerts (id, incident_id, dedup_scope, format, source, service, severity, message,"
            " fingerprint, status, action) VALUES (gen_random_uuid(), gen_random_uuid(), 'scope-a', 'generic',"
            " 'test', 'api', 'critical', 'm', 'fp-1', 'triggered', 'created')"
        )


def test_row_2_never_applies_with_correlation_off_not_even_within_one_batch(db: psycopg.Connection) -> None:
    # A window of 0: every distinct alert opens its own incident, though the batch stores them all at the same
    # instant; a repeat still deduplicates (row 1).
    outcomes = ingest(db, A, SAME_SERVICE, ("scope-a", "fp-3", "api", "critical"), A, window=timedelta(0))
    assert [o for o, _, _ in outcomes] == ["created", "created", "created", "deduplicated"]
    assert len({incident for _, incident, _ in outcomes}) == 3
