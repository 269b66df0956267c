"""Shapes of the JSON this service answers with (inputs live in formats/)."""

import uuid
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_serializer

from alert_ingestion.formats.common import NonBlank
from platform_common.auth import may_see_secrets_of
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
        ' of ...", "merged from ...", "split out of ..."), worded when it was decided; none for alerts stored'
        " before reasons were kept"
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
