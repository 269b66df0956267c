"""Incident tables, owned by incident-management (schema history: migrations/versions/0002_incidents.py)."""

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    ForeignKey,
    Index,
    String,
    Text,
    UniqueConstraint,
    false,
    func,
    literal_column,
    select,
    text,
)
from sqlalchemy.orm import Mapped, column_property, mapped_column

from platform_db.enums import INCIDENT_ORIGINS, INCIDENT_STATUSES, LINK_ACTIONS, PAGE_STATUSES, SEVERITIES, in_check
from platform_db.models.alerts import incident_alerts
from platform_db.models.base import Base, json_default


class Incident(Base):
    __tablename__ = "incidents"
    __table_args__ = (
        CheckConstraint(in_check("severity", SEVERITIES), name="ck_incidents_severity"),
        CheckConstraint(in_check("status", INCIDENT_STATUSES), name="ck_incidents_status"),
        CheckConstraint("(status = 'resolved') = (resolved_at IS NOT NULL)", name="ck_incidents_resolved_at"),
        CheckConstraint("mtta_seconds IS NULL OR mtta_seconds >= 0", name="ck_incidents_mtta"),
        CheckConstraint("mttr_seconds IS NULL OR mttr_seconds >= 0", name="ck_incidents_mttr"),
        CheckConstraint(in_check("origin", INCIDENT_ORIGINS), name="ck_incidents_origin"),
        # Covering the stats' columns, so the summary and the daily series read the index alone
        # (migration 0021_read_indexes).
        Index(
            "ix_incidents_created_at",
            "created_at",
            postgresql_include=["status", "severity", "mtta_seconds", "mttr_seconds"],
        ),
        Index("ix_incidents_status_created_at", "status", "created_at"),
        Index("ix_incidents_service_created_at", "service", "created_at"),
        Index("ix_incidents_team_created_at", "team", "created_at"),
        Index("ix_incidents_assigned_to", "assigned_to"),
        Index(
            "ix_incidents_escalation_due", "next_escalation_at", postgresql_where=text("next_escalation_at IS NOT NULL")
        ),
        Index("ix_incidents_needs_assignment", "created_at", postgresql_where=text("needs_assignment")),
        Index("ix_incidents_snoozed_until", "snoozed_until", postgresql_where=text("snoozed_until IS NOT NULL")),
        CheckConstraint(
            "acknowledgement_timeout_minutes IS NULL OR acknowledgement_timeout_minutes BETWEEN 1 AND 10080",
            name="ck_incidents_ack_timeout",
        ),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(500))
    description: Mapped[str] = mapped_column(Text, default="", server_default="")
    service: Mapped[str] = mapped_column(String(200))
    team: Mapped[str | None] = mapped_column(String(200))
    severity: Mapped[str] = mapped_column(String(10))
    status: Mapped[str] = mapped_column(String(20), default="open", server_default="open")
    assigned_to: Mapped[str | None] = mapped_column(String(200))
    # Where the incident came from: the API, or ingestion's direct-to-DB
    # fallback when incident-management was down (picked up later for assignment).
    origin: Mapped[str] = mapped_column(String(30), default="api", server_default="api")
    needs_assignment: Mapped[bool] = mapped_column(default=False, server_default=false())
    escalation_policy_id: Mapped[uuid.UUID | None]
    escalation_level: Mapped[int] = mapped_column(default=0, server_default="0")
    escalation_cycle: Mapped[int] = mapped_column(default=0, server_default="0")
    next_escalation_at: Mapped[datetime | None]
    # The service's acknowledgement timeout, copied at assignment (None: off). While
    # acknowledged, `next_escalation_at` is when the acknowledgement runs out.
    acknowledgement_timeout_minutes: Mapped[int | None]
    # Who asked to escalate now; the engine pages the next level and clears it.
    escalation_requested_by: Mapped[str | None] = mapped_column(String(200))
    # Work-queue bookkeeping of the background loop (any replica may run it): a
    # claim lease, and a retry schedule for oncall-service outages.
    claimed_until: Mapped[datetime | None]
    next_assignment_at: Mapped[datetime | None]
    dependency_failures: Mapped[int] = mapped_column(default=0, server_default="0")
    # Optimistic concurrency: every state change bumps it.
    version: Mapped[int] = mapped_column(default=1, server_default="1")
    created_at: Mapped[datetime] = mapped_column(server_default=func.current_timestamp())
    updated_at: Mapped[datetime] = mapped_column(server_default=func.current_timestamp())
    acknowledged_at: Mapped[datetime | None]
    resolved_at: Mapped[datetime | None]
    mtta_seconds: Mapped[float | None]
    mttr_seconds: Mapped[float | None]
    # An acknowledged incident snoozed until then; the engine reopens it (and pages) when it passes.
    snoozed_until: Mapped[datetime | None]
    # A merged incident: the one its alerts moved into (migration 0013).
    merged_into: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("incidents.id"))

    # Counted from alert-ingestion's alerts when read (its view incident_alerts),
    # not stored: a column here would have a second writer. Every trigger counts,
    # repeats of one dedup key included (they share one alert row, migration 0013).
    alert_count: Mapped[int] = column_property(
        select(func.coalesce(func.sum(incident_alerts.c.trigger_count), 0))
        .select_from(incident_alerts)
        .where(incident_alerts.c.incident_id == id)
        .correlate_except(incident_alerts)
        .scalar_subquery()
    )


# Text search (`GET /api/v1/incidents?q=`): trigrams answer ILIKE '%text%' from the index
# (pg_trgm, migration 0014_quiet). Queries spell the expression the same way (incident_management.db.queries).
INCIDENT_TEXT = Incident.title.concat(literal_column("' '")).concat(Incident.service)
Index(
    "ix_incidents_search",
    INCIDENT_TEXT.label("incident_text"),
    postgresql_using="gin",
    postgresql_ops={"incident_text": "gin_trgm_ops"},
)


class IncidentNote(Base):
    __tablename__ = "incident_notes"
    __table_args__ = (
        CheckConstraint("length(body) > 0", name="ck_incident_notes_body"),
        Index("ix_incident_notes_incident_id", "incident_id", "created_at"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    incident_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("incidents.id", ondelete="CASCADE"))
    author: Mapped[str] = mapped_column(String(200))
    # The authenticated user who wrote it (NULL before migration 0008).
    author_id: Mapped[uuid.UUID | None]
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(server_default=func.current_timestamp())


class TimelineEntry(Base):
    """Append-only (database triggers refuse UPDATE and DELETE). Partitioned by month of
    `created_at` (migration 0018_retention): the retention drops whole months."""

    __tablename__ = "incident_timeline"
    __table_args__ = (
        Index("ix_incident_timeline_incident_id", "incident_id", "id"),
        {"postgresql_partition_by": "RANGE (created_at)"},
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    # RESTRICT: an incident with history cannot be deleted out from under it.
    incident_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("incidents.id", ondelete="RESTRICT"))
    event_type: Mapped[str] = mapped_column(String(50))
    # Who did it, by name; actor_id is the user or integration (NULL: the platform itself).
    actor: Mapped[str] = mapped_column(String(200))
    actor_id: Mapped[uuid.UUID | None]
    message: Mapped[str] = mapped_column(Text)
    data: Mapped[dict[str, Any]] = mapped_column(default=dict, server_default=json_default("{}"))
    # In the primary key: a partitioned table's unique constraints hold its partition key.
    created_at: Mapped[datetime] = mapped_column(primary_key=True, server_default=func.current_timestamp())


class Page(Base):
    """One page in the outbox: a request to notification-service to reach one
    user for one escalation step, sent exactly once per (incident, step, recipient)."""

    __tablename__ = "incident_pages"
    __table_args__ = (
        CheckConstraint(in_check("status", PAGE_STATUSES), name="ck_incident_pages_status"),
        UniqueConstraint("incident_id", "step_key", "recipient", name="uq_incident_pages_step"),
        Index("ix_incident_pages_pending", "next_attempt_at", postgresql_where=text("status = 'pending'")),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    incident_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("incidents.id", ondelete="CASCADE"))
    step_key: Mapped[str] = mapped_column(String(200))
    recipient: Mapped[str] = mapped_column(String(200))
    event: Mapped[str] = mapped_column(String(20))
    # Sent as notification-service's idempotency_key, so a retried page is never delivered twice.
    idempotency_key: Mapped[str] = mapped_column(String(255), unique=True)
    status: Mapped[str] = mapped_column(String(10), default="pending", server_default="pending")
    attempts: Mapped[int] = mapped_column(default=0, server_default="0")
    next_attempt_at: Mapped[datetime] = mapped_column(server_default=func.current_timestamp())
    # When it is meant to go out: a later step of notification rules is queued at
    # once and due after its delay (migration 0012); the outbox gauges count from here.
    due_at: Mapped[datetime] = mapped_column(server_default=func.current_timestamp())
    # The recipient's name, contact methods and mutes, from oncall-service's
    # on-call answer; sent with the page. NULL: not known yet (looked up before sending).
    contact: Mapped[dict[str, Any] | None]
    # The deliveries notification-service created for this page, with their last
    # known status (it reports each final one); `tracking` while some are not final yet.
    notifications: Mapped[list[dict[str, Any]]] = mapped_column(default=list, server_default=json_default("[]"))
    tracking: Mapped[bool] = mapped_column(default=False, server_default=false())
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(server_default=func.current_timestamp())
    updated_at: Mapped[datetime] = mapped_column(server_default=func.current_timestamp())
    sent_at: Mapped[datetime | None]
    # Why this page was sent, as decided when it was queued (the page's message).
    reason: Mapped[str | None] = mapped_column(Text)
    # How the timeline names the recipient (None: not known when queued).
    recipient_name: Mapped[str | None] = mapped_column(String(200))


class LinkUse(Base):
    """A signed page link that was used: a link acts once (the nonce is its key)."""

    __tablename__ = "incident_link_uses"
    __table_args__ = (CheckConstraint(in_check("action", LINK_ACTIONS), name="ck_incident_link_uses_action"),)

    nonce: Mapped[str] = mapped_column(String(64), primary_key=True)
    incident_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("incidents.id", ondelete="CASCADE"))
    user_id: Mapped[uuid.UUID]
    action: Mapped[str] = mapped_column(String(20))
    used_at: Mapped[datetime] = mapped_column(server_default=func.current_timestamp())
