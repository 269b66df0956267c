"""SQLAlchemy models of the tables this service owns (schema: database/migrations/versions/0002_incidents.py)."""

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    Float,
    ForeignKey,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    Uuid,
    func,
    select,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, column_property, mapped_column

from platform_common.db import UTCDateTime


class Base(DeclarativeBase):
    pass


class Incident(Base):
    __tablename__ = "incidents"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    title: Mapped[str] = mapped_column(String(500))
    description: Mapped[str] = mapped_column(Text, default="")
    service: Mapped[str] = mapped_column(String(200))
    team: Mapped[str | None] = mapped_column(String(200))
    severity: Mapped[str] = mapped_column(String(10))
    status: Mapped[str] = mapped_column(String(20), default="open")
    assigned_to: Mapped[str | None] = mapped_column(String(200))
    origin: Mapped[str] = mapped_column(String(30), default="api")
    needs_assignment: Mapped[bool] = mapped_column(Boolean, default=False)
    escalation_policy_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    escalation_level: Mapped[int] = mapped_column(Integer, default=0)
    escalation_cycle: Mapped[int] = mapped_column(Integer, default=0)
    next_escalation_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    claimed_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    next_assignment_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    dependency_failures: Mapped[int] = mapped_column(Integer, default=0)
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    acknowledged_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    mtta_seconds: Mapped[float | None] = mapped_column(Float)
    mttr_seconds: Mapped[float | None] = mapped_column(Float)


class IncidentNote(Base):
    __tablename__ = "incident_notes"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    incident_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("incidents.id"))
    author: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class TimelineEntry(Base):
    """Append-only (database triggers refuse UPDATE and DELETE)."""

    __tablename__ = "incident_timeline"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    incident_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("incidents.id"))
    event_type: Mapped[str] = mapped_column(String(50))
    actor: Mapped[str] = mapped_column(String(200))
    message: Mapped[str] = mapped_column(Text)
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Page(Base):
    """One page in the outbox: a request to notification-service to reach one user for one step."""

    __tablename__ = "incident_pages"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    incident_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("incidents.id"))
    step_key: Mapped[str] = mapped_column(String(200))
    recipient: Mapped[str] = mapped_column(String(200))
    event: Mapped[str] = mapped_column(String(20))
    idempotency_key: Mapped[str] = mapped_column(String(255))
    status: Mapped[str] = mapped_column(String(10), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime)
    notifications: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    tracking: Mapped[bool] = mapped_column(Boolean, default=False)
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


# alert-ingestion's alerts, through the read-only view it publishes (migration
# 0006_one_owner). Not a table of this service: never written here.
incident_alerts = Table(
    "incident_alerts",
    MetaData(),
    Column("id", Uuid, primary_key=True),
    Column("incident_id", Uuid),
    Column("integration_id", Uuid),
    Column("format", String(20)),
    Column("source", String(255)),
    Column("service", String(200)),
    Column("severity", String(10)),
    Column("message", Text),
    Column("labels", JSON),
    Column("fingerprint", String(255)),
    Column("dedup_key", String(255)),
    Column("status", String(15)),
    Column("action", String(15)),
    Column("event_timestamp", UTCDateTime),
    Column("received_at", UTCDateTime),
    Column("acknowledged_at", UTCDateTime),
    Column("resolved_at", UTCDateTime),
)

# Counted from ingestion's alerts when read, not kept by a second writer.
Incident.alert_count = column_property(
    select(func.count())
    .select_from(incident_alerts)
    .where(incident_alerts.c.incident_id == Incident.id)
    .correlate_except(incident_alerts)
    .scalar_subquery()
)
