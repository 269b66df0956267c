"""Request and response bodies of the public API (shapes agreed with incident-management)."""

import uuid
from datetime import datetime
from email.utils import parseaddr
from typing import Literal
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, HttpUrl, field_serializer, model_validator

from notification_service.domain.messages import NOTICE_EVENTS
from platform_common.auth import address_shown
from platform_common.validation import Text
from platform_db.enums import Channel as ChannelName
from platform_db.enums import NotificationEvent as Event
from platform_db.enums import NotificationStatus as Status
from platform_db.enums import Severity


class IncidentIn(BaseModel):
    id: uuid.UUID
    title: Text(500, min_length=1)
    service: Text(200, min_length=1)
    severity: Severity
    status: Text(20) | None = None
    url: HttpUrl | None = None


class TargetIn(BaseModel):
    channel: ChannelName
    target: Text(2048, min_length=1)

    @model_validator(mode="after")
    def _address_fits_channel(self) -> "TargetIn":
        if self.channel in ("webhook", "slack"):
            parts = urlsplit(self.target)
            if parts.scheme not in ("http", "https") or not parts.netloc:
                raise ValueError(f"a {self.channel} target must be an http(s) URL")
        elif self.channel == "email":
            _, address = parseaddr(self.target)
            if address != self.target or "@" not in address or address.startswith("@") or address.endswith("@"):
                raise ValueError("an email target must be a plain address like oncall@example.com")
        return self


class ContactMethodIn(BaseModel):
    # Types this service cannot deliver (sms, phone) are accepted and skipped.
    type: str = Field(min_length=1, max_length=20)
    address: str = Field(min_length=1, max_length=2048)


class ContactIn(BaseModel):
    """Where and what the user takes pages on, as oncall-service's on-call answer gives it:
    the caller sends it, so a page is accepted while oncall-service is down."""

    name: str = Field(default="", max_length=200)
    contact_methods: list[ContactMethodIn] = Field(default_factory=list, max_length=50)
    muted_channels: list[str] = Field(default_factory=list, max_length=20)
    muted_severities: list[str] = Field(default_factory=list, max_length=20)


class PageActions(BaseModel):
    model_config = ConfigDict(extra="forbid")

    acknowledge: HttpUrl
    resolve: HttpUrl


class NotifyIn(BaseModel):
    idempotency_key: Text(255, min_length=1) | None = None
    event: Event
    # Required for an incident's events; absent for the notices (NOTICE_EVENTS), which carry a message instead.
    incident: IncidentIn | None = None
    user_id: uuid.UUID | None = None
    # Required with user_id: this service does not look users up.
    contact: ContactIn | None = None
    targets: list[TargetIn] | None = Field(default=None, max_length=20)
    message: Text(4000) | None = None
    # Each delivery's final result (delivered, or failed for good) is POSTed here,
    # retried until the caller takes it.
    callback_url: HttpUrl | None = None
    # The recipient's signed one-click links (incident-management signs them,
    # bound to incident, user and action); the page's buttons use them.
    actions: PageActions | None = None

    @model_validator(mode="after")
    def _someone_to_notify(self) -> "NotifyIn":
        if self.event in NOTICE_EVENTS and (self.incident is not None or not self.message):
            raise ValueError(f"a {self.event} notice concerns no incident and needs its message")
        if self.event not in NOTICE_EVENTS and self.incident is None:
            raise ValueError(f"a {self.event} page needs its incident")
        if self.user_id is None and not self.targets:
            raise ValueError("give a user_id, targets, or both")
        if self.user_id is not None and self.contact is None:
            raise ValueError(
                "a user_id needs its contact (contact_methods and mutes): this service does not look users up"
            )
        return self


class AcceptedNotification(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    channel: ChannelName | None
    target: str | None
    recipient: str
    status: Status
    last_error: str | None


class NotifyAccepted(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    status: Literal["accepted"] = "accepted"
    idempotency_key: str | None
    # True when this answer repeats an earlier request with the same key (nothing new was stored).
    duplicate: bool
    notifications: list[AcceptedNotification]


# Items in one `POST /api/v1/notify/batch`: incident-management's outbox sends a batch
# of at most INCIDENT_WORKER_BATCH_SIZE pages (50 by default) in one request.
MAX_NOTIFY_BATCH = 200


class NotifyBatchIn(BaseModel):
    # Each item is validated on its own (a NotifyIn), so one bad page is refused alone.
    items: list[dict[str, object]] = Field(min_length=1, max_length=MAX_NOTIFY_BATCH)


class NotifyItemResult(BaseModel):
    """One item's answer, as `POST /api/v1/notify` would have given it: 202 stored,
    200 a repeat of its idempotency_key, 422 invalid (`detail` says why)."""

    status_code: Literal[200, 202, 409, 422]
    accepted: NotifyAccepted | None = None
    detail: str | None = None


class NotifyBatchAccepted(BaseModel):
    # In the order of the request's items.
    results: list[NotifyItemResult]


class AttemptRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    attempt: int
    result: str
    error: str | None
    response_status: int | None
    duration_ms: float
    started_at: datetime


def _user_id(recipient: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(recipient)
    except ValueError:
        return None


class NotificationRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    idempotency_key: str | None
    incident_id: uuid.UUID | None  # None: a notice about no incident
    event: Event
    recipient: str
    channel: ChannelName | None
    target: str | None
    severity: Severity
    status: Status
    attempts: int
    max_attempts: int
    last_error: str | None
    next_attempt_at: datetime | None
    created_at: datetime
    updated_at: datetime
    delivered_at: datetime | None
    attempt_history: list[AttemptRead]

    @field_serializer("target")
    def _secret_hidden(self, target: str | None) -> str | None:
        # A Slack or webhook target is the recipient's credential (see platform_common.auth).
        return address_shown(self.channel, target, _user_id(self.recipient))

    @model_validator(mode="after")
    def _next_attempt_only_while_live(self) -> "NotificationRead":
        # For pending rows it is the next try; for sending rows the lease's end.
        if self.status not in ("pending", "sending"):
            self.next_attempt_at = None
        return self


class NotificationPage(BaseModel):
    items: list[NotificationRead]
    total: int
    limit: int
    offset: int
