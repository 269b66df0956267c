"""Shapes of the JSON this service answers with (inputs live in formats/)."""

import uuid
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, computed_field, field_serializer

from alert_ingestion.formats.common import NonBlank
from platform_common.auth import may_see_secrets_of
from platform_common.validation import Text, UtcDatetime
from platform_db.enums import AlertFormat


class AlertAccepted(BaseModel):
    alert_id: uuid.UUID | None
    incident_id: uuid.UUID | None
    fingerprint: str
    action: str


class WebhookAccepted(BaseModel):
    status: Literal["accepted"] = "accepted"
    alerts: list[AlertAccepted]


class PagerDutyAccepted(BaseModel):
    status: Literal["success"]
    message: str
    dedup_key: str


class PagerDutyInvalid(BaseModel):
    """PagerDuty's own error shape, kept on /v2/enqueue so PagerDuty clients read it."""

    status: Literal["invalid event"]
    message: str
    errors: list[str]


class PagerDutyThrottled(BaseModel):
    status: Literal["throttle event"]
    message: str


class AlertRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    incident_id: uuid.UUID | None
    integration_id: uuid.UUID | None
    format: str
    source: str
    service: str
    severity: str
    message: str
    labels: dict[str, Any]
    fingerprint: str
    dedup_key: str | None
    status: str
    action: str
    event_timestamp: datetime | None
    received_at: datetime
    acknowledged_at: datetime | None
    resolved_at: datetime | None
    payload: dict[str, Any] | None
    trigger_count: int = Field(description="Triggers of this alert's dedup key: repeats count here, not as rows")
    last_seen_at: datetime = Field(description="When its last trigger arrived")
    reason: str | None = Field(
        description='Why the alert is in its incident ("first alert", "same service and severity within 5 min'
        ' of ...", "merged from ...", "split out of ..."), or why a suppressed alert opened none ("suppressed:'
        " maintenance window '<description>' on <service> until <end> UTC (window <id>)\"), worded when it was"
        " decided; none for alerts stored before reasons were kept"
    )
    reason_alert_id: uuid.UUID | None = Field(description="The alert it was grouped with, if any")


class AlertPage(BaseModel):
    items: list[AlertRead]
    total: int
    limit: int
    offset: int


class IntegrationCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: NonBlank(200)
    service: NonBlank(200)
    type: AlertFormat = "pagerduty"


class IntegrationRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    name: str
    service: str
    type: str
    # The key's first 8 characters, for admins to tell keys apart (None to anyone else).
    key_prefix: str | None
    created_at: datetime
    revoked_at: datetime | None

    @field_serializer("key_prefix")
    def _admins_only(self, prefix: str | None) -> str | None:
        # A piece of a credential: those who issue and revoke keys recognise them
        # by it; viewers and responders have no use for it (SECURITY.md).
        return prefix if may_see_secrets_of(None) else None


class IntegrationCreated(IntegrationRead):
    # Shown once: only its hash is stored.
    key: str


class IntegrationPage(BaseModel):
    items: list[IntegrationRead]
    total: int


ServiceNames = Annotated[list[NonBlank(200)], Field(min_length=1, max_length=50)]
Description = Text(2000, strip=True)


class MaintenanceWindowCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    # Service names, as alerts and integrations name them.
    services: ServiceNames
    # Omitted: the window starts now.
    start: UtcDatetime | None = None
    end: UtcDatetime
    description: Description = ""


class MaintenanceWindowUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    services: ServiceNames | None = None
    start: UtcDatetime | None = None
    end: UtcDatetime | None = None
    description: Description | None = None


class MaintenanceWindowRead(BaseModel):
    id: uuid.UUID
    services: list[str]
    start: datetime
    end: datetime
    description: str
    created_by: str
    created_at: datetime
    updated_at: datetime
    # Whether it silences its services now.
    active: bool


class MaintenanceWindowPage(BaseModel):
    items: list[MaintenanceWindowRead]
    total: int


class HeartbeatCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    service: NonBlank(200)
    name: NonBlank(200)
    # How often the monitor pings at least; late by more, an incident opens.
    interval_seconds: Annotated[int, Field(ge=10, le=604800)]


class HeartbeatUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    interval_seconds: Annotated[int, Field(ge=10, le=604800)]


class HeartbeatRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    service: str
    name: str
    interval_seconds: int
    last_ping_at: datetime | None
    due_at: datetime
    # When it went late (its incident's alert raised); null while it pings in time.
    missed_since: datetime | None
    created_at: datetime

    @computed_field  # type: ignore[prop-decorator]
    @property
    def ping_url(self) -> str:
        """The path a monitor POSTs to, with a key of the heartbeat's service as `Authorization: Bearer`."""
        return f"/api/v1/heartbeats/{self.id}/ping"


class HeartbeatPage(BaseModel):
    items: list[HeartbeatRead]
    total: int


class HeartbeatPinged(BaseModel):
    status: Literal["ok"] = "ok"
    # True when this ping ended a miss (its alert is resolved).
    recovered: bool
    due_at: datetime
