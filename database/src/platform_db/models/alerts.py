"""Alert tables, owned by alert-ingestion, and the view of alerts it publishes
(schema history: migrations/versions/0004_alerts.py, 0006_one_owner.py, 0019_alert_partitions.py)."""

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import (
    ARRAY,
    BigInteger,
    CheckConstraint,
    Column,
    ForeignKey,
    Identity,
    Index,
    String,
    Table,
    Text,
    UniqueConstraint,
    cast,
    func,
    literal_column,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from platform_db.enums import (
    ACTION_STATUSES,
    ALERT_ACTIONS,
    ALERT_FORMATS,
    ALERT_STATUSES,
    INCIDENT_ACTIONS,
    SEVERITIES,
    in_check,
)
from platform_db.models.base import Base, json_default, views


class Integration(Base):
    """A key alerts come in through; only its SHA-256 is stored."""

    __tablename__ = "integrations"
    __table_args__ = (
        CheckConstraint(in_check("type", ALERT_FORMATS), name="ck_integrations_type"),
        CheckConstraint("length(name) > 0 AND length(service) > 0", name="ck_integrations_names"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    service: Mapped[str] = mapped_column(String(200))
    type: Mapped[str] = mapped_column(String(20))
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    key_prefix: Mapped[str] = mapped_column(String(12))
    created_at: Mapped[datetime] = mapped_column(server_default=func.current_timestamp())
    revoked_at: Mapped[datetime | None]


class Alert(Base):
    __tablename__ = "alerts"
    __table_args__ = (
        CheckConstraint(in_check("severity", SEVERITIES), name="ck_alerts_severity"),
        CheckConstraint(in_check("status", ALERT_STATUSES), name="ck_alerts_status"),
        CheckConstraint(in_check("action", ALERT_ACTIONS), name="ck_alerts_action"),
        CheckConstraint(in_check("format", ALERT_FORMATS), name="ck_alerts_format"),
        CheckConstraint("(status = 'resolved') = (resolved_at IS NOT NULL)", name="ck_alerts_resolved_at"),
        CheckConstraint("trigger_count >= 1", name="ck_alerts_trigger_count"),
        Index("ix_alerts_incident_id", "incident_id", "status"),
        Index("ix_alerts_received_at", "received_at"),
        Index("ix_alerts_service_received_at", "service", "received_at"),
        # Dedup and acknowledge/resolve look up the unresolved alerts of one
        # fingerprint, newest first.
        Index(
            "ix_alerts_open_fingerprint",
            "dedup_scope",
            "fingerprint",
            "received_at",
            postgresql_where=text("status <> 'resolved'"),
        ),
        # Correlation: the newest incident an alert of this service and severity opened inside the window.
        Index("ix_alerts_openers", "service", "severity", "received_at", postgresql_where=text("action = 'created'")),
        # Monthly partitions (migration 0019_alert_partitions), so old months can be dropped whole.
        {"postgresql_partition_by": "RANGE (received_at)"},
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    # No foreign key: an alert names its incident before incident-management has opened it.
    incident_id: Mapped[uuid.UUID | None]
    integration_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("integrations.id", ondelete="SET NULL"))
    # Where a fingerprint is unique: the integration's id, or "service:<name>"
    # for generic alerts sent without a key.
    dedup_scope: Mapped[str] = mapped_column(String(250))
    format: Mapped[str] = mapped_column(String(20))
    source: Mapped[str] = mapped_column(String(255))
    service: Mapped[str] = mapped_column(String(200))
    severity: Mapped[str] = mapped_column(String(10))
    message: Mapped[str] = mapped_column(Text)
    labels: Mapped[dict[str, Any]] = mapped_column(server_default=json_default("{}"))
    fingerprint: Mapped[str] = mapped_column(String(255))
    dedup_key: Mapped[str | None] = mapped_column(String(255))
    status: Mapped[str] = mapped_column(String(15), server_default="triggered")
    action: Mapped[str] = mapped_column(String(15))
    event_timestamp: Mapped[datetime | None]
    # In the primary key: a partitioned table's unique constraints hold its partition key.
    received_at: Mapped[datetime] = mapped_column(primary_key=True, server_default=func.current_timestamp())
    acknowledged_at: Mapped[datetime | None]
    resolved_at: Mapped[datetime | None]
    payload: Mapped[dict[str, Any] | None]
    # Repeats of the dedup key count here instead of making rows of their own (migration 0013).
    trigger_count: Mapped[int] = mapped_column(server_default="1")
    last_seen_at: Mapped[datetime] = mapped_column(server_default=func.now())
    # Why the alert is in its incident, worded by the rule when it decided (or by a merge or split),
    # and the alert it was matched with.
    reason: Mapped[str | None] = mapped_column(Text)
    reason_alert_id: Mapped[uuid.UUID | None]


class AlertOpenOpener(Base):
    """The alert that opened an open incident, one per fingerprint in one dedup scope: the database,
    not only ingest_alerts()'s advisory locks, refuses a second one (its primary key). Kept by
    triggers on alerts, not by a service (migration 0019_alert_partitions): a unique index on
    alerts itself would need the partition key."""

    __tablename__ = "alert_open_openers"
    __table_args__ = (Index("ux_alert_open_openers_alert_id", "alert_id", unique=True),)

    dedup_scope: Mapped[str] = mapped_column(String(250), primary_key=True)
    fingerprint: Mapped[str] = mapped_column(String(255), primary_key=True)
    alert_id: Mapped[uuid.UUID]


# Incident search looks into its alerts' source and labels (trigrams: ILIKE '%text%' from the
# index, migration 0014_quiet); the expression as incident_management.db.queries spells it.
def alert_text(source: Any, labels: Any) -> Any:
    """An alert's searchable text: its source and its labels as JSON text."""
    return source.concat(literal_column("' '")).concat(cast(labels, Text))


Index(
    "ix_alerts_search",
    alert_text(Alert.source, Alert.labels).label("alert_text"),
    postgresql_using="gin",
    postgresql_ops={"alert_text": "gin_trgm_ops"},
)


class IncidentAction(Base):
    """A create, acknowledge or resolve ingestion owes incident-management,
    queued in the transaction that decided it and retried until it lands."""

    __tablename__ = "alert_incident_actions"
    __table_args__ = (
        CheckConstraint(in_check("action", INCIDENT_ACTIONS), name="ck_alert_incident_actions_action"),
        CheckConstraint(in_check("status", ACTION_STATUSES), name="ck_alert_incident_actions_status"),
        Index("ix_alert_incident_actions_pending", "next_attempt_at", postgresql_where=text("status = 'pending'")),
        Index("ix_alert_incident_actions_incident", "incident_id", "status"),
        Index("ix_alert_incident_actions_seq", "incident_id", "seq"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    # Commit order, so one incident's actions are sent in the order they were owed.
    seq: Mapped[int] = mapped_column(BigInteger, Identity())
    # No foreign key: a 'create' is owed for an incident that does not exist yet.
    incident_id: Mapped[uuid.UUID]
    action: Mapped[str] = mapped_column(String(15))
    status: Mapped[str] = mapped_column(String(10), server_default="pending")
    attempts: Mapped[int] = mapped_column(server_default="0")
    next_attempt_at: Mapped[datetime] = mapped_column(server_default=func.current_timestamp())
    last_error: Mapped[str | None] = mapped_column(Text)
    # The alert that joined an acknowledged incident (alert_joined only).
    alert_id: Mapped[uuid.UUID | None]
    created_at: Mapped[datetime] = mapped_column(server_default=func.current_timestamp())
    updated_at: Mapped[datetime] = mapped_column(server_default=func.current_timestamp())


class MaintenanceWindow(Base):
    """A period in which alerts of its services are stored but open no incident and page no one
    (migration 0014_quiet)."""

    __tablename__ = "maintenance_windows"
    __table_args__ = (
        CheckConstraint("ends_at > starts_at", name="ck_maintenance_windows_period"),
        CheckConstraint("cardinality(services) > 0", name="ck_maintenance_windows_services"),
        Index("ix_maintenance_windows_ends_at", "ends_at"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    services: Mapped[list[str]] = mapped_column(ARRAY(String(200)))
    starts_at: Mapped[datetime]
    ends_at: Mapped[datetime]
    description: Mapped[str] = mapped_column(Text, server_default="")
    created_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(server_default=func.current_timestamp())
    updated_at: Mapped[datetime] = mapped_column(server_default=func.current_timestamp())


class Heartbeat(Base):
    """A dead-man's switch: a monitoring system pings it at least every interval, or an alert
    opens an incident (migration 0014_quiet)."""

    __tablename__ = "heartbeats"
    __table_args__ = (
        CheckConstraint("interval_seconds BETWEEN 10 AND 604800", name="ck_heartbeats_interval"),
        CheckConstraint("length(name) > 0 AND length(service) > 0", name="ck_heartbeats_names"),
        UniqueConstraint("service", "name", name="uq_heartbeats_service_name"),
        Index("ix_heartbeats_due", "due_at", postgresql_where=text("missed_since IS NULL")),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    service: Mapped[str] = mapped_column(String(200))
    name: Mapped[str] = mapped_column(String(200))
    interval_seconds: Mapped[int]
    last_ping_at: Mapped[datetime | None]
    # When it is late unless pinged again: created or pinged + the interval.
    due_at: Mapped[datetime]
    # Set when it went late (and its alert was raised); cleared by the next ping, which resolves it.
    missed_since: Mapped[datetime | None]
    # The heartbeat worker's lease on the row (platform_common.queue), so one replica raises each miss.
    claimed_until: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(server_default=func.current_timestamp())


# What alert-ingestion publishes of its alerts for other services to read
# (incident-management's alert list and alert count): the alert without its
# dedup scope and raw payload. Created by migration 0006_one_owner.
incident_alerts = Table(
    "incident_alerts",
    views,
    *(
        Column(column.name, column.type, primary_key=column.primary_key)
        for column in Alert.__table__.columns
        if column.name not in ("dedup_scope", "payload")
    ),
)
