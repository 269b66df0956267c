"""Integrations (the keys alerts come in through), alerts, and the outbox of
incident updates that ingestion owes incident-management.

Why: ingestion stores every accepted alert, finds its incident by fingerprint
among unresolved alerts of the same integration (a PagerDuty dedup_key only
matches within its own routing_key), and keeps only hashes of integration
keys. Acknowledge/resolve events change the alert here at once and queue the
incident change in `alert_incident_actions`, so a down incident-management
delays that change but never loses it.

Revision ID: 0004_alerts
Revises: 0003_notifications
Create Date: 2026-11-23
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from columns import SEVERITIES, created_updated, id_column, in_check, timestamp

revision: str = "0004_alerts"
down_revision: str | None = "0003_notifications"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

INTEGRATION_TYPES = ("generic", "pagerduty", "alertmanager", "grafana")
ALERT_STATUSES = ("triggered", "acknowledged", "resolved")
ALERT_ACTIONS = ("created", "correlated", "deduplicated")
INCIDENT_ACTIONS = ("acknowledge", "resolve")
ACTION_STATUSES = ("pending", "done", "failed")


def upgrade() -> None:
    op.create_table(
        "integrations",
        id_column(),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("service", sa.String(200), nullable=False),
        sa.Column("type", sa.String(20), nullable=False),
        # SHA-256 of the key; the key itself is shown once at creation.
        sa.Column("key_hash", sa.String(64), nullable=False, unique=True),
        sa.Column("key_prefix", sa.String(12), nullable=False),
        timestamp("created_at", default_now=True),
        timestamp("revoked_at", nullable=True),
        sa.CheckConstraint(in_check("type", INTEGRATION_TYPES), name="ck_integrations_type"),
        sa.CheckConstraint("length(name) > 0 AND length(service) > 0", name="ck_integrations_names"),
    )

    op.create_table(
        "alerts",
        id_column(),
        sa.Column("incident_id", sa.Uuid(), sa.ForeignKey("incidents.id", ondelete="SET NULL")),
        sa.Column("integration_id", sa.Uuid(), sa.ForeignKey("integrations.id", ondelete="SET NULL")),
        # Where a fingerprint is unique: the integration's id, or "service:<name>"
        # for generic alerts sent without a key.
        sa.Column("dedup_scope", sa.String(250), nullable=False),
        # The format it arrived in (generic, pagerduty, alertmanager, grafana).
        sa.Column("format", sa.String(20), nullable=False),
        sa.Column("source", sa.String(255), nullable=False),
        sa.Column("service", sa.String(200), nullable=False),
        sa.Column("severity", sa.String(10), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("labels", sa.JSON(), nullable=False, server_default=sa.text("'{}'")),
        sa.Column("fingerprint", sa.String(255), nullable=False),
        sa.Column("dedup_key", sa.String(255)),
        sa.Column("status", sa.String(15), nullable=False, server_default="triggered"),
        sa.Column("action", sa.String(15), nullable=False),
        timestamp("event_timestamp", nullable=True),
        timestamp("received_at", default_now=True),
        timestamp("acknowledged_at", nullable=True),
        timestamp("resolved_at", nullable=True),
        sa.Column("payload", sa.JSON()),
        sa.CheckConstraint(in_check("severity", SEVERITIES), name="ck_alerts_severity"),
        sa.CheckConstraint(in_check("status", ALERT_STATUSES), name="ck_alerts_status"),
        sa.CheckConstraint(in_check("action", ALERT_ACTIONS), name="ck_alerts_action"),
        sa.CheckConstraint(in_check("format", INTEGRATION_TYPES), name="ck_alerts_format"),
        sa.CheckConstraint("(status = 'resolved') = (resolved_at IS NOT NULL)", name="ck_alerts_resolved_at"),
    )
    op.create_index("ix_alerts_incident_id", "alerts", ["incident_id", "status"])
    op.create_index("ix_alerts_received_at", "alerts", ["received_at"])
    op.create_index("ix_alerts_service_received_at", "alerts", ["service", "received_at"])
    open_alerts = sa.text("status <> 'resolved'")
    # Dedup and acknowledge/resolve look up the unresolved alerts of one
    # fingerprint; dedup wants the newest, which received_at gives without a
    # sort even when a flapping alert has thousands of repeats.
    op.create_index(
        "ix_alerts_open_fingerprint",
        "alerts",
        ["dedup_scope", "fingerprint", "received_at"],
        postgresql_where=open_alerts,
    )

    # Incident changes ingestion owes incident-management (acknowledge/resolve
    # through its API, so MTTA/MTTR are recorded there). Written in the same
    # transaction as the alert change; sent right after commit and, while
    # incident-management is down, retried by any replica (SKIP LOCKED).
    op.create_table(
        "alert_incident_actions",
        id_column(),
        sa.Column("incident_id", sa.Uuid(), sa.ForeignKey("incidents.id", ondelete="CASCADE"), nullable=False),
        sa.Column("action", sa.String(15), nullable=False),
        sa.Column("status", sa.String(10), nullable=False, server_default="pending"),
        sa.Column("attempts", sa.Integer(), nullable=False, server_default="0"),
        timestamp("next_attempt_at", default_now=True),
        sa.Column("last_error", sa.Text()),
        *created_updated(),
        sa.CheckConstraint(in_check("action", INCIDENT_ACTIONS), name="ck_alert_incident_actions_action"),
        sa.CheckConstraint(in_check("status", ACTION_STATUSES), name="ck_alert_incident_actions_status"),
    )
    pending = sa.text("status = 'pending'")
    op.create_index(
        "ix_alert_incident_actions_pending",
        "alert_incident_actions",
        ["next_attempt_at"],
        postgresql_where=pending,
    )
    op.create_index("ix_alert_incident_actions_incident", "alert_incident_actions", ["incident_id", "status"])
    op.execute(INGEST_ALERT_FUNCTION)
    op.execute(INGEST_ALERTS_FUNCTION)


# The hot path in one round trip (PostgreSQL): a repeat or a correlated alert is
# locked, matched, stored and counted by one call. It takes the same advisory
# locks, in the same order and with the same keys, as the Python path in
# alert_ingestion/services/ingest.py, so the two exclude each other. Every
# statement in a VOLATILE function gets a fresh READ COMMITTED snapshot, so the
# queries after a lock see what the previous holder committed. When a new
# incident is needed it stores nothing and answers 'create': the caller then
# takes the Python path (which calls incident-management) under the same locks.
INGEST_ALERT_FUNCTION = """
CREATE FUNCTION ingest_alert(
    p_id uuid, p_integration_id uuid, p_scope text, p_format text, p_source text, p_service text,
    p_severity text, p_message text, p_labels json, p_fingerprint text, p_dedup_key text,
    p_event_timestamp timestamptz, p_payload json, p_now timestamptz, p_since timestamptz
) RETURNS TABLE (action text, incident_id uuid) AS $$
DECLARE
    v_incident uuid;
    v_action text;
BEGIN
    PERFORM pg_advisory_xact_lock(hashtextextended('fp' || chr(31) || p_scope || chr(31) || p_fingerprint, 0));
    SELECT a.incident_id INTO v_incident
      FROM alerts a JOIN incidents i ON i.id = a.incident_id
     WHERE a.dedup_scope = p_scope AND a.fingerprint = p_fingerprint
       AND a.status <> 'resolved' AND i.status <> 'resolved'
     ORDER BY a.received_at DESC LIMIT 1;
    IF v_incident IS NOT NULL THEN
        v_action := 'deduplicated';
    ELSE
        PERFORM pg_advisory_xact_lock(hashtextextended('svc' || chr(31) || p_service || chr(31) || p_severity, 0));
        SELECT i.id INTO v_incident
          FROM incidents i
         WHERE i.service = p_service AND i.severity = p_severity AND i.status <> 'resolved'
           AND i.created_at >= p_since
           AND NOT EXISTS (SELECT 1 FROM alert_incident_actions x
                            WHERE x.incident_id = i.id AND x.action = 'resolve' AND x.status = 'pending')
         ORDER BY i.created_at DESC LIMIT 1;
        IF v_incident IS NULL THEN
            RETURN QUERY SELECT 'create'::text, NULL::uuid;
            RETURN;
        END IF;
        v_action := 'correlated';
    END IF;
    INSERT INTO alerts (id, incident_id, integration_id, dedup_scope, format, source, service, severity, message,
                        labels, fingerprint, dedup_key, status, action, event_timestamp, received_at, payload)
    VALUES (p_id, v_incident, p_integration_id, p_scope, p_format, p_source, p_service, p_severity, p_message,
            p_labels, p_fingerprint, p_dedup_key, 'triggered', v_action, p_event_timestamp, p_now, p_payload);
    UPDATE incidents SET alert_count = alert_count + 1, updated_at = p_now WHERE id = v_incident;
    IF v_action = 'correlated' THEN
        INSERT INTO incident_timeline (incident_id, event_type, actor, message, data, created_at)
        VALUES (v_incident, 'alert_attached', 'alert-ingestion', p_format || ' alert: ' || left(p_message, 200),
                json_build_object('alert_id', p_id, 'action', v_action, 'fingerprint', p_fingerprint,
                                  'source', p_source),
                p_now);
    END IF;
    RETURN QUERY SELECT v_action, v_incident;
END
$$ LANGUAGE plpgsql
"""

# Group commit (PostgreSQL): the alerts that arrived together in one process,
# in one transaction and one round trip, so one commit (one WAL flush) covers
# them all. Deadlock-free beside other batches, ingest_alert and the Python
# path because every transaction takes its locks in one global order: all
# fingerprint locks, then all (service, severity) locks, each by key, then the
# incident rows by id (counts are added at the end, per incident, in id order).
# Alerts that need a new incident are stored by nobody here and answered
# 'create'; the caller sends them through the Python path after this commits.
INGEST_ALERTS_FUNCTION = """
CREATE FUNCTION ingest_alerts(
    p_ids uuid[], p_integration_ids uuid[], p_scopes text[], p_formats text[], p_sources text[],
    p_services text[], p_severities text[], p_messages text[], p_labels json[], p_fingerprints text[],
    p_dedup_keys text[], p_event_timestamps timestamptz[], p_payloads json[], p_now timestamptz,
    p_since timestamptz
) RETURNS TABLE (ord int, action text, incident_id uuid) AS $$
DECLARE
    k bigint;
    i int;
    r record;
    v_incident uuid;
    v_action text;
BEGIN
    FOR k IN SELECT DISTINCT hashtextextended('fp' || chr(31) || s || chr(31) || f, 0)
               FROM unnest(p_scopes, p_fingerprints) AS t(s, f) ORDER BY 1 LOOP
        PERFORM pg_advisory_xact_lock(k);
    END LOOP;
    FOR k IN SELECT DISTINCT hashtextextended('svc' || chr(31) || sv || chr(31) || se, 0)
               FROM unnest(p_services, p_severities) AS t(sv, se) ORDER BY 1 LOOP
        PERFORM pg_advisory_xact_lock(k);
    END LOOP;
    FOR i IN 1 .. coalesce(array_length(p_ids, 1), 0) LOOP
        SELECT a.incident_id INTO v_incident
          FROM alerts a JOIN incidents inc ON inc.id = a.incident_id
         WHERE a.dedup_scope = p_scopes[i] AND a.fingerprint = p_fingerprints[i]
           AND a.status <> 'resolved' AND inc.status <> 'resolved'
         ORDER BY a.received_at DESC LIMIT 1;
        IF v_incident IS NOT NULL THEN
            v_action := 'deduplicated';
        ELSE
            SELECT inc.id INTO v_incident
              FROM incidents inc
             WHERE inc.service = p_services[i] AND inc.severity = p_severities[i] AND inc.status <> 'resolved'
               AND inc.created_at >= p_since
               AND NOT EXISTS (SELECT 1 FROM alert_incident_actions x
                                WHERE x.incident_id = inc.id AND x.action = 'resolve' AND x.status = 'pending')
             ORDER BY inc.created_at DESC LIMIT 1;
            IF v_incident IS NULL THEN
                ord := i; action := 'create'; incident_id := NULL;
                RETURN NEXT;
                CONTINUE;
            END IF;
            v_action := 'correlated';
        END IF;
        INSERT INTO alerts (id, incident_id, integration_id, dedup_scope, format, source, service, severity,
                            message, labels, fingerprint, dedup_key, status, action, event_timestamp,
                            received_at, payload)
        VALUES (p_ids[i], v_incident, p_integration_ids[i], p_scopes[i], p_formats[i], p_sources[i],
                p_services[i], p_severities[i], p_messages[i], p_labels[i], p_fingerprints[i], p_dedup_keys[i],
                'triggered', v_action, p_event_timestamps[i], p_now, p_payloads[i]);
        IF v_action = 'correlated' THEN
            INSERT INTO incident_timeline (incident_id, event_type, actor, message, data, created_at)
            VALUES (v_incident, 'alert_attached', 'alert-ingestion',
                    p_formats[i] || ' alert: ' || left(p_messages[i], 200),
                    json_build_object('alert_id', p_ids[i], 'action', v_action, 'fingerprint', p_fingerprints[i],
                                      'source', p_sources[i]),
                    p_now);
        END IF;
        ord := i; action := v_action; incident_id := v_incident;
        RETURN NEXT;
    END LOOP;
    FOR r IN SELECT a.incident_id AS id, count(*) AS n FROM alerts a
              WHERE a.id = ANY (p_ids) GROUP BY a.incident_id ORDER BY a.incident_id LOOP
        UPDATE incidents SET alert_count = alert_count + r.n, updated_at = p_now WHERE id = r.id;
    END LOOP;
END
$$ LANGUAGE plpgsql
"""


def downgrade() -> None:
    op.execute("DROP FUNCTION IF EXISTS ingest_alerts")
    op.execute("DROP FUNCTION IF EXISTS ingest_alert")
    op.drop_table("alert_incident_actions")
    op.drop_table("alerts")
    op.drop_table("integrations")
