"""The alerts' retention (migration 0020_alert_retention): alert-ingestion's role drops
whole old months of alerts, never a month holding an alert of an incident unresolved,
resolved within the retention or not opened yet, nor an open opener; the upgrade and
downgrade keep every alert."""

import uuid
from datetime import UTC, datetime

import psycopg
import pytest

from platform_common.migrations import MigrationSettings, downgrade, upgrade
from platform_testing import as_service, provisioned_database
from platform_testing.partitions import partitions_of, retire

# The revision just before 0020_alert_retention.
BEFORE = "0019_alert_partitions"

LONG_AGO = datetime(2024, 3, 10, tzinfo=UTC)
CUTOFF = datetime(2025, 1, 1, tzinfo=UTC)
# Months no other test of this file puts alerts in.
MONTHS = {f"alerts_p2024{month:02}": datetime(2024, month, 10, tzinfo=UTC) for month in range(3, 9)}


def _incident(conn: psycopg.Connection, *, resolved_at: datetime | None = None) -> uuid.UUID:
    incident_id = uuid.uuid4()
    conn.execute(
        "INSERT INTO incidents (id, title, service, severity, status, resolved_at, created_at)"
        " VALUES (%s, 'disk full', 'api', 'high', %s, %s, %s)",
        [incident_id, "resolved" if resolved_at else "open", resolved_at, LONG_AGO],
    )
    return incident_id


def _alert(
    conn: psycopg.Connection,
    incident_id: uuid.UUID | None,
    at: datetime,
    *,
    action: str = "correlated",
    status: str = "resolved",
    fingerprint: str | None = None,
) -> uuid.UUID:
    alert_id = uuid.uuid4()
    conn.execute(
        "INSERT INTO alerts (id, incident_id, dedup_scope, format, source, service, severity, message,"
        " fingerprint, status, action, resolved_at, received_at)"
        " VALUES (%s, %s, 'scope', 'generic', 'test', 'api', 'high', 'm', %s, %s, %s,"
        " CASE WHEN %s = 'resolved' THEN %s END, %s)",
        [alert_id, incident_id, fingerprint or str(alert_id), status, action, status, at, at],
    )
    return alert_id


@pytest.fixture
def service(clean_database):
    """A connection as alert-ingestion's role, and one as the schema's owner."""
    with (
        psycopg.connect(as_service(clean_database, "alert_ingestion"), autocommit=True) as role,
        psycopg.connect(clean_database, autocommit=True) as owner,
    ):
        role.execute("SELECT alerts_add_partitions(%s, %s)", [LONG_AGO, len(MONTHS) - 1])
        yield role, owner


def test_a_month_goes_only_when_nothing_in_it_is_still_needed(service):
    role, owner = service
    open_one = _incident(owner)
    resolved_late = _incident(owner, resolved_at=datetime(2025, 6, 1, tzinfo=UTC))
    resolved_early = _incident(owner, resolved_at=datetime(2024, 9, 1, tzinfo=UTC))
    opened_by_stale_opener = _incident(owner, resolved_at=datetime(2024, 9, 1, tzinfo=UTC))
    months = iter(MONTHS.values())
    _alert(role, open_one, next(months))  # 03: its incident is open
    _alert(role, resolved_late, next(months))  # 04: resolved within the retention
    _alert(role, uuid.uuid4(), next(months))  # 05: its incident not opened yet (a create owed)
    # 06: its incident resolved long ago, but the opener never resolved (no resolve came, no repeat since).
    stale = _alert(role, opened_by_stale_opener, next(months), action="created", status="triggered")
    _alert(role, resolved_early, next(months))  # 07: every incident resolved long ago
    _alert(role, resolved_early, next(months), action="created")
    _alert(role, None, datetime(2024, 8, 11, tzinfo=UTC), action="suppressed")  # 08: no incident at all

    dropped = retire(role, "alerts", CUTOFF)

    # (Other tests' old months may go too: only these are this test's.)
    assert set(dropped) & set(MONTHS) == {"alerts_p202407", "alerts_p202408"}, dropped
    assert {"alerts_p202403", "alerts_p202404", "alerts_p202405", "alerts_p202406"} <= partitions_of(role, "alerts")
    (kept,) = role.execute("SELECT count(*) FROM alerts WHERE received_at < %s", [CUTOFF]).fetchone()
    assert kept == 4
    assert owner.execute("SELECT alert_id FROM alert_open_openers").fetchall() == [(stale,)]

    # The stale opener resolved (as ingest_alerts() does when its fingerprint fires again): its month may go,
    # and its guard row went with the UPDATE, not left behind.
    role.execute("UPDATE alerts SET status = 'resolved', resolved_at = now() WHERE id = %s", [stale])
    assert retire(role, "alerts", CUTOFF) == ["alerts_p202406"]
    assert owner.execute("SELECT count(*) FROM alert_open_openers").fetchone() == (0,)
    # A month within the retention stays whatever its incidents.
    assert retire(role, "alerts", datetime(2024, 4, 30, tzinfo=UTC)) == []
    # The others go once their incidents are resolved before the cutoff.
    owner.execute("UPDATE incidents SET status = 'resolved', resolved_at = %s WHERE id = %s", [LONG_AGO, open_one])
    assert retire(role, "alerts", CUTOFF) == ["alerts_p202403"]
    assert {"alerts_p202404", "alerts_p202405"} <= partitions_of(role, "alerts")
    # The role still may not drop or empty a month by hand, nor reach the check itself.
    for statement in ("DROP TABLE alerts_p202404", "TRUNCATE alerts_p202404", "SELECT alerts_expired(now())"):
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            role.execute(statement)


def test_the_default_partition_is_never_dropped(service):
    role, owner = service
    resolved = _incident(owner, resolved_at=LONG_AGO)
    _alert(role, resolved, datetime(2019, 1, 5, tzinfo=UTC))  # no month for it: the default partition
    retire(role, "alerts", CUTOFF)
    assert "alerts_default" in partitions_of(role, "alerts")
    assert owner.execute("SELECT count(*) FROM alerts_default").fetchone() == (1,)


def test_upgrade_and_downgrade_keep_every_alert(database_server):
    with provisioned_database(database_server) as url:
        settings = MigrationSettings(database_url=url)
        upgrade(settings, BEFORE)
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute("SELECT alerts_add_partitions(%s, 0)", [LONG_AGO])
            incident_id = _incident(conn, resolved_at=LONG_AGO)
            _alert(conn, incident_id, LONG_AGO, action="created")
            _alert(conn, incident_id, datetime.now(UTC), status="triggered")
            before = conn.execute("SELECT * FROM alerts ORDER BY id").fetchall()
        upgrade(settings)
        with psycopg.connect(url, autocommit=True) as conn:
            assert conn.execute("SELECT * FROM alerts ORDER BY id").fetchall() == before
        downgrade(settings, BEFORE)
        with psycopg.connect(url, autocommit=True) as conn:
            assert conn.execute("SELECT * FROM alerts ORDER BY id").fetchall() == before
            assert conn.execute("SELECT to_regprocedure('alerts_drop_partition(timestamptz)')").fetchone() == (None,)
        upgrade(settings)
        with psycopg.connect(as_service(url, "alert_ingestion"), autocommit=True) as role:
            assert retire(role, "alerts", CUTOFF) == ["alerts_p202403"]
            assert role.execute("SELECT count(*) FROM alerts").fetchone() == (1,)
