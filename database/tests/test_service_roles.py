"""Least privilege, enforced by PostgreSQL: each service's role writes only the
tables it owns and reaches others' data only through the views and functions
granted to it (migration 0009_service_roles)."""

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime

import psycopg
import pytest
from psycopg import errors

from platform_testing import as_service

# Written out here, not read from the migration: the ownership docs/ARCHITECTURE.md states.
OWNERS = {
    "oncall_service": {
        "users",
        "contact_methods",
        "teams",
        "team_members",
        "services",
        "schedules",
        "schedule_layers",
        "layer_members",
        "schedule_overrides",
        "escalation_policies",
        "escalation_levels",
        "escalation_targets",
        "auth_credentials",
        "notification_rules",
        "shift_notices",
    },
    "incident_management": {"incidents", "incident_notes", "incident_timeline", "incident_pages", "incident_link_uses"},
    "notification_service": {"notification_requests", "notifications", "notification_attempts"},
    "alert_ingestion": {"integrations", "alerts", "alert_incident_actions", "maintenance_windows", "heartbeats"},
}
# Kept by triggers only (migration 0019_alert_partitions): no service reads or writes it, so none can
# forge or remove the row that refuses a second open opener.
TRIGGER_KEPT = {"alert_open_openers"}
VIEWS = {
    "incident_states": {"alert_ingestion"},
    "incident_alerts": {"incident_management"},
    "service_grouping": {"alert_ingestion"},
}
# The partition functions (SECURITY DEFINER, run as the tables' owner: migrations 0018_retention,
# 0019_alert_partitions, 0020_alert_retention), each callable by its table's owner only; the checks
# they call inside (`*_expired`) by none.
PARTITION_FUNCTIONS = {
    "incident_timeline_add_partitions(timestamptz, integer)": {"incident_management"},
    "incident_timeline_empty_partition(timestamptz)": {"incident_management"},
    "incident_timeline_drop_partition(timestamptz)": {"incident_management"},
    "incident_timeline_expired(timestamptz)": set(),
    "alerts_add_partitions(timestamptz, integer)": {"alert_ingestion"},
    "alerts_empty_partition(timestamptz)": {"alert_ingestion"},
    "alerts_drop_partition(timestamptz)": {"alert_ingestion"},
    "alerts_expired(timestamptz)": set(),
}
NOW = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)


@pytest.fixture
def connect(clean_database: str) -> Iterator:
    opened: list[psycopg.Connection] = []

    def as_role(role: str | None = None) -> psycopg.Connection:
        conn = psycopg.connect(as_service(clean_database, role) if role else clean_database, autocommit=True)
        opened.append(conn)
        return conn

    yield as_role
    for conn in opened:
        conn.close()


def _tables(conn: psycopg.Connection) -> list[str]:
    rows = conn.execute(
        "SELECT c.relname FROM pg_class c WHERE c.relnamespace = 'public'::regnamespace"
        " AND c.relkind IN ('r', 'p') AND NOT c.relispartition AND c.relname <> 'alembic_version'"
    ).fetchall()
    return sorted(name for (name,) in rows)


def test_every_table_has_exactly_its_owner_as_writer(connect):
    owner = connect()
    tables = _tables(owner)
    assert set(tables) == set().union(*OWNERS.values(), TRIGGER_KEPT), "a table without an owning service, or one gone"
    for role, owned in OWNERS.items():
        for table in tables:
            (writes, reads) = owner.execute(
                "SELECT has_table_privilege(%s, %s, 'INSERT'), has_table_privilege(%s, %s, 'SELECT')",
                [role, table, role, table],
            ).fetchone()
            assert writes == (table in owned), f"{role} INSERT on {table}"
            assert reads == (table in owned), f"{role} SELECT on {table}"
            (truncates,) = owner.execute("SELECT has_table_privilege(%s, %s, 'TRUNCATE')", [role, table]).fetchone()
            assert not truncates, f"{role} TRUNCATE on {table}"
    for view, readers in VIEWS.items():
        for role in OWNERS:
            (reads,) = owner.execute("SELECT has_table_privilege(%s, %s, 'SELECT')", [role, view]).fetchone()
            assert reads == (role in readers), f"{role} SELECT on the view {view}"


def test_a_table_s_months_are_made_and_dropped_by_its_owner_only(connect):
    owner = connect()
    for function, callers in PARTITION_FUNCTIONS.items():
        for role in OWNERS:
            (calls,) = owner.execute("SELECT has_function_privilege(%s, %s, 'EXECUTE')", [role, function]).fetchone()
            assert calls == (role in callers), f"{role} EXECUTE on {function}"


def test_notification_service_cannot_read_credentials_or_change_incidents(connect):
    notifications = connect("notification_service")
    for statement in (
        "SELECT secret_hash FROM auth_credentials",
        "SELECT password_hash FROM users",
        "UPDATE incidents SET status = 'resolved'",
        "DELETE FROM alerts",
    ):
        with pytest.raises(errors.InsufficientPrivilege):
            notifications.execute(statement)
    assert notifications.execute("SELECT count(*) FROM notifications").fetchone() == (0,)


def test_no_service_role_owns_or_alters_the_schema(connect):
    ingestion = connect("alert_ingestion")
    for statement in ("DROP TABLE alerts", "ALTER TABLE alerts ADD COLUMN x int", "CREATE TABLE mine (id int)"):
        with pytest.raises((errors.InsufficientPrivilege, errors.InvalidSchemaName)):
            ingestion.execute(statement)


def test_the_fallback_opens_an_incident_only_through_open_incident(connect):
    ingestion, owner = connect("alert_ingestion"), connect()
    incident = uuid.uuid4()
    with pytest.raises(errors.InsufficientPrivilege):
        ingestion.execute(
            "INSERT INTO incidents (id, title, service, severity, status) VALUES (%s, 't', 's', 'high', 'open')",
            [incident],
        )
    (opened,) = ingestion.execute(
        "SELECT open_incident(%s, 'Disk full', '', 'db', NULL, 'high', 'ingestion_fallback', 'alert-ingestion', %s)",
        [incident, NOW],
    ).fetchone()
    assert opened is True
    assert owner.execute("SELECT status, origin FROM incidents WHERE id = %s", [incident]).fetchone() == (
        "open",
        "ingestion_fallback",
    )
    # The dedup rule is ingestion's alone.
    with pytest.raises(errors.InsufficientPrivilege):
        connect("notification_service").execute(
            "SELECT * FROM close_alerts('scope', 'fingerprint', true, false, %s)", [NOW]
        )


def test_every_service_checks_credentials_only_through_the_function(connect):
    owner = connect()
    user = owner.execute(
        "INSERT INTO users (id, name, email, role) VALUES (gen_random_uuid(), 'Ann', 'ann@example.com', 'responder')"
        " RETURNING id"
    ).fetchone()[0]
    owner.execute(
        "INSERT INTO auth_credentials (id, user_id, kind, secret_hash) VALUES (gen_random_uuid(), %s, 'token', 'h1')",
        [user],
    )
    for role in OWNERS:
        conn = connect(role)
        found = conn.execute("SELECT user_id, role FROM authenticate_credential('h1', %s)", [NOW]).fetchall()
        assert found == [(user, "responder")], role
        if role != "oncall_service":
            with pytest.raises(errors.InsufficientPrivilege):
                conn.execute("SELECT 1 FROM auth_credentials")
    # A page link's user is looked up by incident-management only.
    assert connect("incident_management").execute("SELECT name FROM acting_user(%s)", [user]).fetchone() == ("Ann",)
    with pytest.raises(errors.InsufficientPrivilege):
        connect("alert_ingestion").execute("SELECT * FROM acting_user(%s)", [user])
