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


# What a schema is made of, read from PostgreSQL's catalog: every table's columns,
# every constraint, index, view, function, trigger, type and extension, each as
# PostgreSQL itself prints its definition.
SCHEMA_QUERIES = {
    "columns": """
        SELECT table_name || '.' || column_name,
               concat_ws(' ', data_type, is_nullable, column_default, is_identity, generation_expression)
        FROM information_schema.columns WHERE table_schema = 'public'""",
    "constraints": """
        SELECT conrelid::regclass || '.' || conname, pg_get_constraintdef(oid)
        FROM pg_constraint WHERE connamespace = 'public'::regnamespace""",
    "indexes": "SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = 'public'",
    "views": "SELECT viewname, definition FROM pg_views WHERE schemaname = 'public'",
    "functions": """
        SELECT p.oid::regprocedure::text, pg_get_functiondef(p.oid) FROM pg_proc p
        WHERE p.pronamespace = 'public'::regnamespace AND p.prokind IN ('f', 'p')
          AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.objid = p.oid AND d.deptype = 'e')""",
    "triggers": """
        SELECT tgrelid::regclass || '.' || tgname, pg_get_triggerdef(oid)
        FROM pg_trigger WHERE NOT tgisinternal""",
    "types": """
        SELECT t.typname, string_agg(e.enumlabel, ',' ORDER BY e.enumsortorder)
        FROM pg_type t LEFT JOIN pg_enum e ON e.enumtypid = t.oid
        WHERE t.typnamespace = 'public'::regnamespace AND t.typtype IN ('e', 'd', 'c')
          AND NOT EXISTS (SELECT 1 FROM pg_class c WHERE c.oid = t.typrelid AND c.relkind <> 'c')
        GROUP BY t.typname""",
    "extensions": "SELECT extname, extversion FROM pg_extension",
}


def _schema(url: str) -> dict[str, dict[str, str]]:
    """The database's schema, part by part (see SCHEMA_QUERIES), Alembic's own table left out."""
    engine = _engine(url)
    try:
        with engine.connect() as conn:
            schema = {part: dict(conn.execute(sa.text(query)).all()) for part, query in SCHEMA_QUERIES.items()}
            schema["alembic"] = {"version": conn.execute(sa.text("SELECT version_num FROM alembic_version")).scalar()}
    finally:
        engine.dispose()
    for part in schema.values():
        for name in [name for name in part if "alembic_version" in name]:
            del part[name]
    return schema


def _differences(before: dict[str, dict[str, str]], after: dict[str, dict[str, str]]) -> list[str]:
    return [
        f"{part} {name}: {before[part].get(name)!r} -> {after[part].get(name)!r}"
        for part in before
        for name in sorted(before[part].keys() | after[part].keys())
        if before[part].get(name) != after[part].get(name)
    ]


def test_upgrade_downgrade_upgrade(empty_database, database_server):
    settings = MigrationSettings(database_url=empty_database)
    upgrade(settings)
    assert _tables(empty_database) >= CORE_TABLES
    downgrade(settings, "base")
    assert _tables(empty_database) == {"alembic_version"}
    upgrade(settings)
    # Down to nothing and up again is the schema a fresh database gets from one upgrade.
    with provisioned_database(database_server) as fresh:
        upgrade(MigrationSettings(database_url=fresh))
        expected = _schema(fresh)
    assert _differences(expected, _schema(empty_database)) == []


def test_every_revision_steps_down_and_back_up(empty_database):
    settings = MigrationSettings(database_url=empty_database)
    revisions = [rev.revision for rev in ScriptDirectory.from_config(alembic_config(settings)).walk_revisions()]
    for revision in reversed(revisions):
        upgrade(settings, revision)
        before = _schema(empty_database)
        downgrade(settings, "-1")
        upgrade(settings, revision)
        # Each downgrade undoes exactly what its upgrade did: up again, nothing differs.
        assert _differences(before, _schema(empty_database)) == [], revision


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
