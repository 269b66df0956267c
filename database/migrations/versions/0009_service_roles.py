"""Each service its own PostgreSQL role: the database enforces who writes what.

Why:
- "One owner per table" was a convention: every service connected as one user
  that could write every table and read every password hash. Now each service
  connects as its own role (alert_ingestion, incident_management,
  oncall_service, notification_service), which may write only the tables it
  owns. Another service's data is read through the views and functions its
  owner publishes, granted by name; nothing else.
- The functions that other services call to reach a table they may not read
  run with the rights of their owner, the migration role (SECURITY DEFINER,
  with a fixed search_path so a caller cannot slip its own objects in):
  authenticate_credential() and acting_user() (oncall-service's credentials
  and users, for every service) and open_incident() (incident-management's
  incidents, for alert-ingestion's fallback). Functions are no longer
  executable by PUBLIC.
- The migration role (the user that runs this history) owns the schema and
  every object in it; the service roles own nothing, so none can ALTER, DROP
  or TRUNCATE.

The roles are created NOLOGIN when missing (which takes CREATEROLE); logins
and passwords are the deployment's business (platform_common.migrations
`enable_service_logins`, run by `platform-migrate upgrade` with
<SERVICE>_DATABASE_PASSWORD set, by `make dev` and by the tests; CloudNativePG
declares them as managed roles). Roles belong to the whole server, so the
downgrade revokes what this grants and leaves the roles.

Revision ID: 0009_service_roles
Revises: 0008_auth
Create Date: 2026-12-07
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0009_service_roles"
down_revision: str | None = "0008_auth"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

WRITE = "SELECT, INSERT, UPDATE, DELETE"

# role -> (table, privileges) it owns. The timeline is append-only (a trigger
# refuses the rest), so its owner is granted no more than that.
OWNED: dict[str, tuple[tuple[str, str], ...]] = {
    "oncall_service": tuple(
        (table, WRITE)
        for table in (
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
        )
    ),
    "incident_management": (
        ("incidents", WRITE),
        ("incident_notes", WRITE),
        ("incident_timeline", "SELECT, INSERT"),
        ("incident_pages", WRITE),
        ("incident_link_uses", WRITE),
    ),
    "notification_service": (
        ("notification_requests", WRITE),
        ("notifications", WRITE),
        ("notification_attempts", WRITE),
    ),
    "alert_ingestion": (
        ("integrations", WRITE),
        ("alerts", WRITE),
        ("alert_incident_actions", WRITE),
    ),
}
# The sequences behind the owners' serial and identity columns.
SEQUENCES = {
    "incident_management": ("incident_timeline_id_seq",),
    "notification_service": ("notification_attempts_id_seq",),
    "alert_ingestion": ("alert_incident_actions_seq_seq",),
}
# What each role reads of others': views by name.
VIEWS = {
    "incident_states": ("alert_ingestion",),  # incident-management's, for the dedup rule
    "incident_alerts": ("incident_management",),  # alert-ingestion's, without the raw payloads
}
# Functions, with the roles that may call them; DEFINER ones run as the migration role.
FUNCTIONS: dict[str, tuple[tuple[str, ...], bool]] = {
    "authenticate_credential(text, timestamptz)": (tuple(OWNED), True),
    "acting_user(uuid)": (("incident_management",), True),
    "open_incident(uuid, text, text, text, text, text, text, text, timestamptz)": (
        ("incident_management", "alert_ingestion"),
        True,
    ),
    "ingest_alerts(uuid[], uuid[], text[], text[], text[], text[], text[], text[], json[], text[], text[],"
    " timestamptz[], json[], timestamptz, timestamptz)": (("alert_ingestion",), False),
    "close_alerts(text, text, boolean, boolean, timestamptz)": (("alert_ingestion",), False),
}

CREATE_ROLES = """
DO $$
DECLARE
    r text;
BEGIN
    FOREACH r IN ARRAY ARRAY[{names}] LOOP
        IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = r) THEN
            IF NOT (SELECT rolsuper OR rolcreaterole FROM pg_roles WHERE rolname = current_user) THEN
                RAISE EXCEPTION 'the service role % does not exist and % may not create roles', r, current_user
                    USING HINT = 'run the migrations as a user with CREATEROLE, or have an administrator run: '
                                 'CREATE ROLE ' || r || ' NOLOGIN';
            END IF;
            EXECUTE format('CREATE ROLE %I NOLOGIN', r);
        END IF;
    END LOOP;
END
$$
"""


def upgrade() -> None:
    op.execute(CREATE_ROLES.format(names=", ".join(f"'{role}'" for role in OWNED)))
    roles = ", ".join(OWNED)
    op.execute(f"GRANT CONNECT ON DATABASE {_database()} TO {roles}")
    op.execute(f"GRANT USAGE ON SCHEMA public TO {roles}")
    for role, tables in OWNED.items():
        for table, privileges in tables:
            op.execute(f"GRANT {privileges} ON {table} TO {role}")
    for role, sequences in SEQUENCES.items():
        for sequence in sequences:
            op.execute(f"GRANT USAGE, SELECT ON SEQUENCE {sequence} TO {role}")
    for view, readers in VIEWS.items():
        op.execute(f"GRANT SELECT ON {view} TO {', '.join(readers)}")
    for function, (callers, definer) in FUNCTIONS.items():
        op.execute(f"REVOKE EXECUTE ON FUNCTION {function} FROM PUBLIC")
        op.execute(f"GRANT EXECUTE ON FUNCTION {function} TO {', '.join(callers)}")
        if definer:
            op.execute(f"ALTER FUNCTION {function} SECURITY DEFINER SET search_path = public, pg_temp")


def downgrade() -> None:
    roles = ", ".join(OWNED)
    for function, (_, definer) in FUNCTIONS.items():
        if definer:
            op.execute(f"ALTER FUNCTION {function} SECURITY INVOKER RESET search_path")
        op.execute(f"REVOKE EXECUTE ON FUNCTION {function} FROM {roles}")
        op.execute(f"GRANT EXECUTE ON FUNCTION {function} TO PUBLIC")
    for view in VIEWS:
        op.execute(f"REVOKE ALL ON {view} FROM {roles}")
    for sequences in SEQUENCES.values():
        for sequence in sequences:
            op.execute(f"REVOKE ALL ON SEQUENCE {sequence} FROM {roles}")
    for tables in OWNED.values():
        for table, _ in tables:
            op.execute(f"REVOKE ALL ON {table} FROM {roles}")
    op.execute(f"REVOKE USAGE ON SCHEMA public FROM {roles}")
    op.execute(f"REVOKE CONNECT ON DATABASE {_database()} FROM {roles}")


def _database() -> str:
    """The current database's name, quoted as an identifier."""
    return op.get_bind().exec_driver_sql("SELECT quote_ident(current_database())").scalar_one()
