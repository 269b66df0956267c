"""One owner per table, and the dedup/correlation rule in one place.

Why:
- alert-ingestion no longer writes incident-management's tables. It decides
  dedup and correlation in its own tables (ingest_alerts(), from
  database/sql/0006_one_owner/ingest_alerts.sql) and reads incidents only through the view
  `incident_states` that incident-management publishes. A new incident's id
  is reserved with its first alert and a 'create' is owed to
  incident-management (sent after commit: no lock is held across the call).
  While incident-management is down, ingestion opens it through
  open_incident() (database/sql/0006_one_owner/open_incident.sql), the function
  incident-management itself uses.
- So alerts may name an incident that is still being opened: the foreign keys
  from ingestion's tables to `incidents` go.
- An incident's alert count is counted from ingestion's alerts (the view
  `incident_alerts` it publishes) instead of being kept by another service.
- A partial unique index makes PostgreSQL, not only the advisory locks, refuse
  a second open incident opened by one fingerprint in one dedup scope.
- Owed actions carry a sequence so they are sent in commit order per incident
  (a create before the acknowledge of the same incident).

The functions' source is frozen with this migration in database/sql/0006_one_owner/
(frozen_sql.py): a later change to a function is a new migration with a new file.

Revision ID: 0006_one_owner
Revises: 0005_override_exclusion
Create Date: 2026-12-01
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from frozen_sql import install

revision: str = "0006_one_owner"
down_revision: str | None = "0005_override_exclusion"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SQL_FILES = {
    "0006_one_owner/open_incident.sql": "f9a055268f0d38181c42302c1a42d18a2631bdcf69151b5b806039914038b103",
    "0006_one_owner/ingest_alerts.sql": "219bf13731cb4a7a8197fe5a4b820e843baf38344a1f697f788e79a2a043bd92",
}

INCIDENT_STATES_VIEW = """
CREATE VIEW incident_states AS
SELECT id, status FROM incidents
"""

INCIDENT_ALERTS_VIEW = """
CREATE VIEW incident_alerts AS
SELECT id, incident_id, integration_id, format, source, service, severity, message, labels, fingerprint,
       dedup_key, status, action, event_timestamp, received_at, acknowledged_at, resolved_at
  FROM alerts
"""


def upgrade() -> None:
    op.drop_constraint("alerts_incident_id_fkey", "alerts", type_="foreignkey")
    op.drop_constraint("alert_incident_actions_incident_id_fkey", "alert_incident_actions", type_="foreignkey")
    op.drop_constraint("ck_alert_incident_actions_action", "alert_incident_actions", type_="check")
    op.create_check_constraint(
        "ck_alert_incident_actions_action", "alert_incident_actions", "action IN ('create', 'acknowledge', 'resolve')"
    )
    op.add_column("alert_incident_actions", sa.Column("seq", sa.BigInteger(), sa.Identity(), nullable=False))
    op.create_index("ix_alert_incident_actions_seq", "alert_incident_actions", ["incident_id", "seq"])

    op.drop_index("ix_incidents_unresolved", "incidents")
    op.drop_constraint("ck_incidents_alert_count", "incidents", type_="check")
    op.drop_column("incidents", "alert_count")
    op.create_check_constraint("ck_incidents_origin", "incidents", "origin IN ('api', 'ingestion_fallback')")

    opener = sa.text("action = 'created'")
    op.create_index(
        "ux_alerts_open_opener",
        "alerts",
        ["dedup_scope", "fingerprint"],
        unique=True,
        postgresql_where=sa.text("action = 'created' AND status <> 'resolved'"),
    )
    # Correlation: the newest incident an alert of this service and severity opened inside the window.
    op.create_index("ix_alerts_openers", "alerts", ["service", "severity", "received_at"], postgresql_where=opener)

    op.execute(INCIDENT_STATES_VIEW)
    op.execute(INCIDENT_ALERTS_VIEW)
    install(SQL_FILES)


def downgrade() -> None:
    op.execute("DROP FUNCTION close_alerts")
    op.execute("DROP FUNCTION ingest_alerts")
    op.execute("DROP FUNCTION open_incident")
    op.execute("DROP VIEW incident_alerts")
    op.execute("DROP VIEW incident_states")
    op.drop_index("ix_alerts_openers", "alerts")
    op.drop_index("ux_alerts_open_opener", "alerts")
    op.drop_constraint("ck_incidents_origin", "incidents", type_="check")
    op.add_column("incidents", sa.Column("alert_count", sa.Integer(), nullable=False, server_default="0"))
    op.execute("UPDATE incidents i SET alert_count = (SELECT count(*) FROM alerts a WHERE a.incident_id = i.id)")
    op.create_check_constraint("ck_incidents_alert_count", "incidents", "alert_count >= 0")
    op.create_index(
        "ix_incidents_unresolved",
        "incidents",
        ["service", "severity", "created_at"],
        postgresql_where=sa.text("status <> 'resolved'"),
    )
    op.drop_index("ix_alert_incident_actions_seq", "alert_incident_actions")
    op.drop_column("alert_incident_actions", "seq")
    op.execute("DELETE FROM alert_incident_actions WHERE action = 'create'")
    op.drop_constraint("ck_alert_incident_actions_action", "alert_incident_actions", type_="check")
    op.create_check_constraint(
        "ck_alert_incident_actions_action", "alert_incident_actions", "action IN ('acknowledge', 'resolve')"
    )
    # Alerts of incidents that were never opened lose their link, as ON DELETE SET NULL would have done.
    op.execute(
        "UPDATE alerts a SET incident_id = NULL WHERE NOT EXISTS (SELECT 1 FROM incidents i WHERE i.id = a.incident_id)"
    )
    op.execute(
        "DELETE FROM alert_incident_actions x WHERE NOT EXISTS (SELECT 1 FROM incidents i WHERE i.id = x.incident_id)"
    )
    op.create_foreign_key(
        "alert_incident_actions_incident_id_fkey",
        "alert_incident_actions",
        "incidents",
        ["incident_id"],
        ["id"],
        ondelete="CASCADE",
    )
    op.create_foreign_key(
        "alerts_incident_id_fkey", "alerts", "incidents", ["incident_id"], ["id"], ondelete="SET NULL"
    )
