"""Tables of alert-ingestion (integrations, alerts, owed incident updates).
The schema itself lives in database/migrations/versions/0004_alerts.py and 0006_one_owner.py."""

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, FetchedValue, Integer, String, Text, Uuid
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from platform_common.db import UTCDateTime


class Base(DeclarativeBase):
    type_annotation_map = {datetime: UTCDateTime, dict[str, Any]: JSON}


class Integration(Base):
    __tablename__ = "integrations"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    service: Mapped[str] = mapped_column(String(200))
    type: Mapped[str] = mapped_column(String(20))
    key_hash: Mapped[str] = mapped_column(String(64))
    key_prefix: Mapped[str] = mapped_column(String(12))
    created_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None]


class Alert(Base):
    __tablename__ = "alerts"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    incident_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    integration_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    dedup_scope: Mapped[str] = mapped_column(String(250))
    format: Mapped[str] = mapped_column(String(20))
    source: Mapped[str] = mapped_column(String(255))
    service: Mapped[str] = mapped_column(String(200))
    severity: Mapped[str] = mapped_column(String(10))
    message: Mapped[str] = mapped_column(Text)
    labels: Mapped[dict[str, Any]]
    fingerprint: Mapped[str] = mapped_column(String(255))
    dedup_key: Mapped[str | None] = mapped_column(String(255))
    status: Mapped[str] = mapped_column(String(15))
    action: Mapped[str] = mapped_column(String(15))
    event_timestamp: Mapped[datetime | None]
    received_at: Mapped[datetime]
    acknowledged_at: Mapped[datetime | None]
    resolved_at: Mapped[datetime | None]
    payload: Mapped[dict[str, Any] | None]


class IncidentAction(Base):
    """A create, acknowledge or resolve ingestion owes incident-management."""

    __tablename__ = "alert_incident_actions"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    seq: Mapped[int] = mapped_column(BigInteger, server_default=FetchedValue())
    incident_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    action: Mapped[str] = mapped_column(String(15))
    status: Mapped[str] = mapped_column(String(10))
    attempts: Mapped[int] = mapped_column(Integer)
    next_attempt_at: Mapped[datetime]
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
