"""Alerts in monthly partitions (migration 0019_alert_partitions): an upgrade
keeps every alert, an alert of a month without its partition still lands (the
default partition) and moves to its month when it is made, and the rule the
unique index ux_alerts_open_opener kept before, one open opener per
(dedup_scope, fingerprint), holds from every writer through alert_open_openers."""

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime

import psycopg
import pytest

from platform_common.migrations import MigrationSettings, downgrade, upgrade
from platform_testing import as_service, provisioned_database

# The revision just before 0019_alert_partitions partitioned alerts.
BEFORE = "0018_retention"

LONG_AGO = datetime(2024, 3, 10, tzinfo=UTC)
FAR_AHEAD = datetime(2031, 5, 2, tzinfo=UTC)


def _alert(
    conn: psycopg.Connection,
    fingerprint: str,
    *,
    at: datetime | None = None,
    action: str = "created",
    status: str = "triggered",
    scope: str = "scope-a",
) -> uuid.UUID:
    alert_id = uuid.uuid4()
    conn.execute(
        "INSERT INTO alerts (id, incident_id, dedup_scope, format, source, service, severity, message,"
        " fingerprint, status, action, resolved_at, received_at)"
        " VALUES (%s, gen_random_uuid(), %s, 'generic', 'test', 'api', 'critical', 'm', %s, %s, %s,"
        " CASE WHEN %s = 'resolved' THEN now() END, coalesce(%s, now()))",
        [alert_id, scope, fingerprint, status, action, status, at],
    )
    return alert_id


def _openers(conn: psycopg.Connection) -> set[tuple[str, uuid.UUID]]:
    return set(conn.execute("SELECT fingerprint, alert_id FROM alert_open_openers").fetchall())


def _partition_of(conn: psycopg.Connection, alert_id: uuid.UUID) -> str:
    return conn.execute("SELECT tableoid::regclass::text FROM alerts WHERE id = %s", [alert_id]).fetchone()[0]


def test_upgrade_keeps_every_alert_and_the_open_openers_and_downgrade_gives_them_back(database_server):
    with provisioned_database(database_server) as url:
        settings = MigrationSettings(database_url=url)
        upgrade(settings, BEFORE)  # alerts a plain table with its unique index
        with psycopg.connect(url, autocommit=True) as conn:
            opener = _alert(conn, "fp-1", at=LONG_AGO)
            _alert(conn, "fp-1", at=LONG_AGO, action="deduplicated")
            _alert(conn, "fp-2", status="resolved")
            before = conn.execute("SELECT * FROM alerts ORDER BY id").fetchall()
        upgrade(settings)
        with psycopg.connect(url, autocommit=True) as conn:
            assert conn.execute("SELECT * FROM alerts ORDER BY id").fetchall() == before
            assert conn.execute("SELECT relkind FROM pg_class WHERE relname = 'alerts'").fetchone() == ("p",)
            assert _partition_of(conn, opener) == "alerts_p202403"
            assert _openers(conn) == {("fp-1", opener)}
            with pytest.raises(psycopg.errors.UniqueViolation, match="alert_open_openers_pkey"):
                _alert(conn, "fp-1")
        downgrade(settings, BEFORE)
        with psycopg.connect(url, autocommit=True) as conn:
            assert conn.execute("SELECT * FROM alerts ORDER BY id").fetchall() == before
            assert conn.execute("SELECT relkind FROM pg_class WHERE relname = 'alerts'").fetchone() == ("r",)
            with pytest.raises(psycopg.errors.UniqueViolation, match="ux_alerts_open_opener"):
                _alert(conn, "fp-1")


@pytest.fixture
def service(clean_database: str) -> Iterator[tuple[psycopg.Connection, psycopg.Connection]]:
    """A connection as alert-ingestion's role, and one as the schema's owner."""
    with (
        psycopg.connect(as_service(clean_database, "alert_ingestion"), autocommit=True) as role,
        psycopg.connect(clean_database, autocommit=True) as owner,
    ):
        yield role, owner


def test_one_open_opener_per_fingerprint_whatever_changes_the_alerts(service):
    role, owner = service
    first = _alert(role, "fp-1")
    with pytest.raises(psycopg.errors.UniqueViolation, match="alert_open_openers_pkey"):
        _alert(role, "fp-1")
    # Not openers: repeats, resolved openers, another scope.
    _alert(role, "fp-1", action="deduplicated")
    _alert(role, "fp-1", status="resolved")
    other_scope = _alert(role, "fp-1", scope="scope-b")
    assert _openers(owner) == {("fp-1", first), ("fp-1", other_scope)}

    # A repeat counted on the opener keeps its row; resolving it frees the fingerprint.
    role.execute("UPDATE alerts SET trigger_count = trigger_count + 1 WHERE id = %s", [first])
    assert ("fp-1", first) in _openers(owner)
    role.execute("UPDATE alerts SET status = 'resolved', resolved_at = now() WHERE id = %s", [first])
    second = _alert(role, "fp-1")
    assert _openers(owner) == {("fp-1", second), ("fp-1", other_scope)}
    # An update that would make a second open opener fails as an insert does.
    with pytest.raises(psycopg.errors.UniqueViolation, match="alert_open_openers_pkey"):
        role.execute("UPDATE alerts SET status = 'triggered', resolved_at = NULL WHERE id = %s", [first])
    # A row moved to another month (DELETE then INSERT across partitions) keeps its opener row.
    role.execute("UPDATE alerts SET received_at = %s WHERE id = %s", [LONG_AGO, second])
    assert ("fp-1", second) in _openers(owner)
    role.execute("DELETE FROM alerts WHERE id = %s", [second])
    assert _openers(owner) == {("fp-1", other_scope)}


def test_the_service_makes_months_but_cannot_touch_the_open_openers(service):
    role, owner = service
    # No month for it yet: the default partition takes it, and making the month moves it there.
    ahead = _alert(role, "fp-ahead", at=FAR_AHEAD)
    assert _partition_of(owner, ahead) == "alerts_default"
    (made,) = role.execute("SELECT alerts_add_partitions(%s, 1)", [FAR_AHEAD]).fetchone()
    assert made == 2
    assert _partition_of(owner, ahead) == "alerts_p203105"
    assert _openers(owner) == {("fp-ahead", ahead)}
    assert role.execute("SELECT alerts_add_partitions(%s, 1)", [FAR_AHEAD]).fetchone() == (0,)
    for statement in (
        "SELECT * FROM alert_open_openers",
        "DELETE FROM alert_open_openers",
        "INSERT INTO alert_open_openers VALUES ('s', 'f', gen_random_uuid())",
        "CREATE TABLE alerts_p204001 PARTITION OF alerts FOR VALUES FROM ('2040-01-01') TO ('2040-02-01')",
    ):
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            role.execute(statement)
