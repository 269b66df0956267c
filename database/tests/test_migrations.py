"""The one Alembic history upgrades and downgrades cleanly, and the invariants
it puts in the database hold."""

import uuid
from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from alembic.script import ScriptDirectory

from platform_common.migrations import MigrationSettings, alembic_config, downgrade, upgrade
from platform_testing import provisioned_database

CORE_TABLES = {
    "users",
    "teams",
    "schedules",
    "schedule_overrides",
    "escalation_policies",
    "incidents",
    "incident_notes",
    "incident_timeline",
    "alerts",
    "integrations",
    "notifications",
    "notification_attempts",
}


@pytest.fixture
def empty_database(database_server) -> Iterator[str]:
    with provisioned_database(database_server) as url:
        yield url


def _engine(url: str) -> sa.Engine:
    return sa.create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1))


def _tables(url: str) -> set[str]:
    engine = _engine(url)
    try:
        return set(sa.inspect(engine).get_table_names())
    finally:
        engine.dispose()


def test_upgrade_downgrade_upgrade(empty_database):
    settings = MigrationSettings(database_url=empty_database)
    upgrade(settings)
    assert _tables(empty_database) >= CORE_TABLES
    downgrade(settings, "base")
    assert _tables(empty_database) == {"alembic_version"}
    upgrade(settings)
    assert _tables(empty_database) >= CORE_TABLES


def test_every_revision_steps_down_and_back_up(empty_database):
    settings = MigrationSettings(database_url=empty_database)
    revisions = [rev.revision for rev in ScriptDirectory.from_config(alembic_config(settings)).walk_revisions()]
    for revision in reversed(revisions):
        upgrade(settings, revision)
        downgrade(settings, "-1")
        upgrade(settings, revision)


def test_history_is_linear():
    script = ScriptDirectory.from_config(alembic_config(MigrationSettings()))
    assert len(script.get_heads()) == 1


def _insert_incident(conn: sa.Connection, **values: object) -> uuid.UUID:
    incidents = sa.Table("incidents", sa.MetaData(), autoload_with=conn)
    incident_id = uuid.uuid4()
    row = {"id": incident_id, "title": "disk full", "service": "api", "severity": "high", "status": "open"} | values
    conn.execute(incidents.insert().values(**row))
    return incident_id


def test_database_refuses_unknown_severity_and_status(clean_database):
    engine = _engine(clean_database)
    try:
        for bad in ({"severity": "urgent"}, {"status": "snoozed"}):
            with pytest.raises(sa.exc.IntegrityError), engine.begin() as conn:
                _insert_incident(conn, **bad)
    finally:
        engine.dispose()


def test_timeline_is_append_only(clean_database):
    engine = _engine(clean_database)
    try:
        with engine.begin() as conn:
            incident_id = _insert_incident(conn)
            timeline = sa.Table("incident_timeline", sa.MetaData(), autoload_with=conn)
            conn.execute(
                timeline.insert().values(incident_id=incident_id, event_type="created", actor="test", message="opened")
            )
        for statement in ("UPDATE incident_timeline SET message = 'rewritten'", "DELETE FROM incident_timeline"):
            with pytest.raises(sa.exc.DBAPIError, match="append-only"), engine.begin() as conn:
                conn.execute(sa.text(statement))
        with engine.connect() as conn:
            assert conn.execute(sa.text("SELECT message FROM incident_timeline")).scalar_one() == "opened"
    finally:
        engine.dispose()


def _insert_schedule_with_user(conn: sa.Connection) -> tuple[uuid.UUID, uuid.UUID]:
    user_id, schedule_id = uuid.uuid4(), uuid.uuid4()
    conn.execute(
        sa.text("INSERT INTO users (id, name, email) VALUES (:id, 'Ann', :email)"),
        {"id": user_id, "email": f"{user_id}@example.com"},
    )
    conn.execute(
        sa.text("INSERT INTO schedules (id, name, timezone) VALUES (:id, :name, 'UTC')"),
        {"id": schedule_id, "name": f"schedule {schedule_id}"},
    )
    return user_id, schedule_id


def _insert_override(conn: sa.Connection, schedule_id: uuid.UUID, user_id: uuid.UUID, start: str, end: str) -> None:
    conn.execute(
        sa.text(
            "INSERT INTO schedule_overrides (id, schedule_id, user_id, start_at, end_at)"
            " VALUES (:id, :schedule_id, :user_id, :start, :end)"
        ),
        {"id": uuid.uuid4(), "schedule_id": schedule_id, "user_id": user_id, "start": start, "end": end},
    )


def test_database_refuses_overlapping_overrides_of_one_schedule(clean_database):
    """Written straight in SQL, past oncall-service: the EXCLUDE constraint still holds."""
    engine = _engine(clean_database)
    try:
        with engine.begin() as conn:
            user_id, schedule_id = _insert_schedule_with_user(conn)
            _, other_schedule = _insert_schedule_with_user(conn)
            _insert_override(conn, schedule_id, user_id, "2026-06-02T00:00:00Z", "2026-06-03T00:00:00Z")
            # Touching is fine ([start, end) ranges), and so is the same time in another schedule.
            _insert_override(conn, schedule_id, user_id, "2026-06-03T00:00:00Z", "2026-06-04T00:00:00Z")
            _insert_override(conn, other_schedule, user_id, "2026-06-02T00:00:00Z", "2026-06-03T00:00:00Z")
        with pytest.raises(sa.exc.IntegrityError, match="ex_overrides_overlap") as refused, engine.begin() as conn:
            _insert_override(conn, schedule_id, user_id, "2026-06-01T12:00:00Z", "2026-06-02T00:00:01Z")
        assert refused.value.orig.sqlstate == "23P01"  # exclusion_violation
        with engine.connect() as conn:
            assert conn.execute(sa.text("SELECT count(*) FROM schedule_overrides")).scalar_one() == 3
    finally:
        engine.dispose()


def test_override_exclusion_migration_stops_on_existing_overlaps(database_server):
    with provisioned_database(database_server) as url:
        settings = MigrationSettings(database_url=url)
        upgrade(settings, "0004_alerts")
        engine = _engine(url)
        try:
            with engine.begin() as conn:
                user_id, schedule_id = _insert_schedule_with_user(conn)
                _insert_override(conn, schedule_id, user_id, "2026-06-02T00:00:00Z", "2026-06-03T00:00:00Z")
                _insert_override(conn, schedule_id, user_id, "2026-06-02T12:00:00Z", "2026-06-04T00:00:00Z")
            with pytest.raises(RuntimeError, match="overlapping overrides exist"):
                upgrade(settings, "0005_override_exclusion")
            with engine.begin() as conn:
                conn.execute(sa.text("DELETE FROM schedule_overrides WHERE start_at > '2026-06-02T00:00:00Z'"))
            upgrade(settings, "0005_override_exclusion")
        finally:
            engine.dispose()
