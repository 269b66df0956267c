"""The timeline in monthly partitions (migration 0018_retention): an upgrade keeps
every row, the retention drops whole old months as incident-management's role, never
a month holding an entry of an incident unresolved or resolved within the retention,
and inserts go on while a partition is dropped."""

import threading
import time
import uuid
from datetime import UTC, datetime

import psycopg
import pytest

from platform_common.migrations import MigrationSettings, upgrade
from platform_testing import as_service, provisioned_database
from platform_testing.partitions import partitions_of, retire

# The revision just before 0018_retention partitioned the timeline.
BEFORE = "0016_noise"

LONG_AGO = datetime(2024, 3, 10, tzinfo=UTC)
CUTOFF = datetime(2025, 1, 1, tzinfo=UTC)


def _incident(conn: psycopg.Connection, *, resolved_at: datetime | None = None) -> uuid.UUID:
    incident_id = uuid.uuid4()
    conn.execute(
        "INSERT INTO incidents (id, title, service, severity, status, resolved_at, created_at)"
        " VALUES (%s, 'disk full', 'api', 'high', %s, %s, %s)",
        [incident_id, "resolved" if resolved_at else "open", resolved_at, LONG_AGO],
    )
    return incident_id


def _entry(conn: psycopg.Connection, incident_id: uuid.UUID, at: datetime, message: str = "opened") -> None:
    conn.execute(
        "INSERT INTO incident_timeline (incident_id, event_type, actor, message, created_at)"
        " VALUES (%s, 'created', 'test', %s, %s)",
        [incident_id, message, at],
    )


def test_upgrade_keeps_every_timeline_row(database_server):
    with provisioned_database(database_server) as url:
        settings = MigrationSettings(database_url=url)
        upgrade(settings, BEFORE)  # today's schema, the timeline a plain table
        moments = [LONG_AGO, datetime(2026, 6, 30, 23, 59, tzinfo=UTC), datetime.now(UTC)]
        with psycopg.connect(url, autocommit=True) as conn:
            incident_id = _incident(conn)
            for n, at in enumerate(moments):
                _entry(conn, incident_id, at, message=f"entry {n}")
            before = conn.execute("SELECT id, message, created_at FROM incident_timeline ORDER BY id").fetchall()
        upgrade(settings)
        with psycopg.connect(url, autocommit=True) as conn:
            after = conn.execute("SELECT id, message, created_at FROM incident_timeline ORDER BY id").fetchall()
            assert after == before
            assert conn.execute("SELECT relkind FROM pg_class WHERE relname = 'incident_timeline'").fetchone() == ("p",)
            # Each month the rows fell in, and the default partition.
            assert {"incident_timeline_p202403", "incident_timeline_p202606", "incident_timeline_default"} <= (
                partitions_of(conn, "incident_timeline")
            )
            # The sequence goes on after the copied ids, and the trigger still guards the history.
            _entry(conn, incident_id, datetime.now(UTC), message="after")
            (newest,) = conn.execute("SELECT max(id) FROM incident_timeline").fetchone()
            assert newest > before[-1][0]
            with pytest.raises(psycopg.errors.RaiseException, match="append-only"):
                conn.execute("DELETE FROM incident_timeline")


@pytest.fixture
def service(clean_database):
    """A connection as incident-management's role, and one as the schema's owner."""
    with (
        psycopg.connect(as_service(clean_database, "incident_management"), autocommit=True) as role,
        psycopg.connect(clean_database, autocommit=True) as owner,
    ):
        yield role, owner, clean_database


def test_retention_never_drops_a_month_of_an_incident_unresolved_or_resolved_within_it(service):
    role, owner, _ = service
    role.execute("SELECT incident_timeline_add_partitions(%s, 2)", [LONG_AGO])
    assert {"incident_timeline_p202403", "incident_timeline_p202404", "incident_timeline_p202405"} <= partitions_of(
        role, "incident_timeline"
    )
    open_one = _incident(owner)
    resolved_late = _incident(owner, resolved_at=datetime(2025, 6, 1, tzinfo=UTC))
    resolved_early = _incident(owner, resolved_at=datetime(2024, 6, 1, tzinfo=UTC))
    _entry(role, open_one, datetime(2024, 3, 10, tzinfo=UTC))
    _entry(role, resolved_late, datetime(2024, 4, 10, tzinfo=UTC))
    _entry(role, resolved_early, datetime(2024, 5, 10, tzinfo=UTC))

    dropped = retire(role, "incident_timeline", CUTOFF)
    # (Other tests' old months may go too: only these three are this test's.)
    mine = {"incident_timeline_p202403", "incident_timeline_p202404", "incident_timeline_p202405"}
    assert mine & set(dropped) == {"incident_timeline_p202405"}, dropped
    assert {"incident_timeline_p202403", "incident_timeline_p202404"} <= partitions_of(role, "incident_timeline")
    (kept,) = role.execute("SELECT count(*) FROM incident_timeline WHERE created_at < %s", [CUTOFF]).fetchone()
    assert kept == 2

    # Resolved before the cutoff: its month may go now.
    owner.execute("UPDATE incidents SET status = 'resolved', resolved_at = %s WHERE id = %s", [LONG_AGO, open_one])
    assert retire(role, "incident_timeline", CUTOFF) == ["incident_timeline_p202403"]
    assert retire(role, "incident_timeline", CUTOFF) == []
    assert "incident_timeline_p202404" in partitions_of(role, "incident_timeline")
    # The role itself still may not delete or edit entries, nor drop a partition by hand.
    with pytest.raises(psycopg.errors.InsufficientPrivilege):
        role.execute("DROP TABLE incident_timeline_p202404")


def test_a_month_is_dropped_while_entries_keep_being_written(service):
    role, owner, url = service
    role.execute("SELECT incident_timeline_add_partitions(%s, 0)", [LONG_AGO])
    old = _incident(owner, resolved_at=LONG_AGO)
    owner.execute(
        "INSERT INTO incident_timeline (incident_id, event_type, actor, message, created_at)"
        " SELECT %s, 'note', 'test', 'old', %s + n * interval '1 second' FROM generate_series(1, 200000) n",
        [old, LONG_AGO],
    )
    live = _incident(owner)
    stop = threading.Event()
    latencies: list[float] = []
    errors: list[BaseException] = []

    def write() -> None:
        try:
            with psycopg.connect(as_service(url, "incident_management"), autocommit=True) as writer:
                while not stop.is_set():
                    started = time.perf_counter()
                    _entry(writer, live, datetime.now(UTC), message="live")
                    latencies.append(time.perf_counter() - started)
        except BaseException as error:  # reported by the test
            errors.append(error)

    thread = threading.Thread(target=write)
    thread.start()
    try:
        time.sleep(0.5)
        writes_before = len(latencies)
        started = time.perf_counter()
        dropped = retire(role, "incident_timeline", CUTOFF)
        drop_seconds = time.perf_counter() - started
        time.sleep(0.5)
    finally:
        stop.set()
        thread.join()
    assert errors == []
    assert "incident_timeline_p202403" in dropped
    assert len(latencies) > writes_before > 0, "writes went on around the drop"
    # A drop is a catalog change: no scan of its 200,000 rows under the lock, and no write waited on it long.
    assert drop_seconds < 5
    assert max(latencies) < 2
    (left,) = role.execute("SELECT count(*) FROM incident_timeline WHERE incident_id = %s", [old]).fetchone()
    assert left == 0


def test_entries_in_the_default_partition_move_to_their_month_when_it_is_created(service):
    role, owner, _ = service
    incident_id = _incident(owner)
    # No partition for June 2023: the entry lands in the default partition, not in an error.
    _entry(role, incident_id, datetime(2023, 6, 15, tzinfo=UTC), message="early")
    (entry_id,) = owner.execute("SELECT id FROM incident_timeline_default").fetchone()
    assert role.execute(
        "SELECT incident_timeline_add_partitions(%s, 0)", [datetime(2023, 6, 1, tzinfo=UTC)]
    ).fetchone() == (1,)
    assert owner.execute("SELECT count(*) FROM incident_timeline_default").fetchone() == (0,)
    assert owner.execute("SELECT id, message FROM incident_timeline_p202306").fetchall() == [(entry_id, "early")]
    # Again: nothing to create.
    assert role.execute(
        "SELECT incident_timeline_add_partitions(%s, 0)", [datetime(2023, 6, 1, tzinfo=UTC)]
    ).fetchone() == (0,)
