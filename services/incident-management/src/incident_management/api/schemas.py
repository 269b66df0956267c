"""Request and response bodies of the incident API."""

import uuid
from datetime import date, datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, computed_field, field_serializer, model_validator

from incident_management.domain.state import ALLOWED, Status
from platform_common.auth import address_shown
from platform_common.validation import Text, UtcDatetime
from platform_db.enums import Severity

Name = Text(200, min_length=1, strip=True)
NoteBody = Text(20_000, min_length=1, strip=True)


class ActingIntegration(BaseModel):
    """The integration on whose behalf the platform (alert-ingestion) acts; only
    the platform's own credential may name one. A user's change is recorded
    under the signed-in user, never under a name from the body."""

    model_config = ConfigDict(extra="forbid")

    id: uuid.UUID
    name: Name


class IncidentCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    title: Text(500, min_length=1, strip=True)
    service: Name
    severity: Severity
    description: Text(20_000) = ""
    team: Name | None = None
    # A user who may act (a responder or admin, not disabled); without one, on-call decides.
    assigned_to: uuid.UUID | None = None
    # The platform's own calls only (alert-ingestion opens the incident its rule
    # reserved the id of): repeating a create with it returns the existing incident (200).
    id: uuid.UUID | None = None
    # The platform's own calls only: when the problem was first seen (the alert
    # that opened it); MTTA and MTTR count from here. Defaults to now; a moment
    # in the future counts as now.
    opened_at: UtcDatetime | None = None
    acting_integration: ActingIntegration | None = None


# Creates in one `POST /api/v1/incidents/batch`: alert-ingestion sends the creates it
# claimed together, at most its hand-over batch (100).
MAX_CREATE_BATCH = 100


class IncidentBatchCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    # Each item is validated on its own (an IncidentCreate), so one bad create is refused alone.
    items: list[dict[str, object]] = Field(min_length=1, max_length=MAX_CREATE_BATCH)


class IncidentBatchItemResult(BaseModel):
    """One create's answer, as `POST /api/v1/incidents` would have given it: 201 opened,
    200 its `id` exists already (nothing changed), 422 refused (`detail` says why)."""

    status_code: Literal[200, 201, 422]
    # The incident's id; None only for an item refused before it had one.
    id: uuid.UUID | None = None
    detail: str | None = None


class IncidentBatchResult(BaseModel):
    # In the order of the request's items.
    results: list[IncidentBatchItemResult]


class IncidentUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    status: Status | None = None
    # A user who may act (a responder or admin, not disabled); null unassigns.
    assigned_to: uuid.UUID | None = None
    note: NoteBody | None = None
    acting_integration: ActingIntegration | None = None
    # Optional optimistic check: 409 unless the incident is still at this version.
    version: Annotated[int, Field(ge=1)] | None = None

    @model_validator(mode="after")
    def _something_to_do(self) -> "IncidentUpdate":
        if self.status is None and self.note is None and "assigned_to" not in self.model_fields_set:
            raise ValueError("give at least one of status, assigned_to, note")
        return self


class NoteCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    body: NoteBody


class IncidentRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    title: str
    description: str
    service: str
    team: str | None
    severity: str
    status: str
    assigned_to: str | None
    alert_count: int
    origin: str
    needs_assignment: bool
    escalation_policy_id: uuid.UUID | None
    escalation_level: int
    escalation_cycle: int
    next_escalation_at: datetime | None
    acknowledgement_timeout_minutes: int | None = Field(
        description="the service's acknowledgement timeout, copied at assignment (null: off)"
    )
    version: int
    created_at: datetime
    updated_at: datetime
    acknowledged_at: datetime | None
    resolved_at: datetime | None
    mtta_seconds: float | None
    mttr_seconds: float | None
    # Acknowledged and snoozed until then: it reopens and pages again when this passes.
    snoozed_until: datetime | None
    merged_into: uuid.UUID | None = Field(
        default=None, description="A merged incident: the incident its alerts moved into (it is resolved)"
    )

    @computed_field  # type: ignore[prop-decorator]
    @property
    def next_statuses(self) -> list[Status]:
        """The statuses the incident may move to now (the state machine's rule), so
        a client offers only those actions."""
        return sorted(ALLOWED[Status(self.status)], key=list(Status).index)


class SnoozeCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    # Up to a week: a longer quiet is a maintenance window, or a resolve.
    minutes: Annotated[int, Field(ge=1, le=7 * 24 * 60)]


BulkAction = Literal["acknowledge", "resolve", "reassign"]


class BulkRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    ids: Annotated[list[uuid.UUID], Field(min_length=1, max_length=100)]
    action: BulkAction
    # For `reassign`: a user who may act (a responder or admin, not disabled); null unassigns.
    assigned_to: uuid.UUID | None = None

    @model_validator(mode="after")
    def _assignee_only_to_reassign(self) -> "BulkRequest":
        if self.action == "reassign" and "assigned_to" not in self.model_fields_set:
            raise ValueError("reassign takes assigned_to (a user id, or null to unassign)")
        if self.action != "reassign" and "assigned_to" in self.model_fields_set:
            raise ValueError(f"{self.action} takes no assigned_to")
        if len(set(self.ids)) != len(self.ids):
            raise ValueError("ids must not repeat")
        return self


class BulkItemResult(BaseModel):
    id: uuid.UUID
    # The status the same change alone would have answered: 200, 404, 409 (it moved on), 422.
    status: int
    detail: str | None = None
    incident: IncidentRead | None = None


class BulkResult(BaseModel):
    action: BulkAction
    results: list[BulkItemResult]
    succeeded: int
    failed: int


class IncidentPage(BaseModel):
    items: list[IncidentRead]
    total: int
    total_capped: bool = Field(
        default=False,
        description="true when more than `total` incidents match: a search (`q`) stops counting at 1,000,"
        " the list without `q` at 10,000, so `total` is then the cap and the list goes on",
    )
    limit: int
    offset: int


class NoteRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    incident_id: uuid.UUID
    author: str
    # The user who wrote it; None for notes older than sign-in.
    author_id: uuid.UUID | None = None
    body: str
    created_at: datetime


class TimelineRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    # None for the entries that are alerts (read from alert-ingestion, not stored in the timeline).
    id: int | None
    event_type: str
    actor: str
    # The user or integration behind `actor`; None for the platform itself.
    actor_id: uuid.UUID | None = None
    message: str
    data: dict[str, Any]
    created_at: datetime


class PageRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    step_key: str
    recipient: str
    recipient_name: str | None = Field(description="the recipient's name when the page was queued")
    event: str
    reason: str | None = Field(
        description="why the page was sent: first page, escalation, re-notify, manual escalation"
    )
    status: str
    attempts: int
    last_error: str | None
    notifications: list[dict[str, Any]]
    created_at: datetime
    sent_at: datetime | None

    @field_serializer("notifications")
    def _secrets_hidden(self, notifications: list[dict[str, Any]]) -> list[dict[str, Any]]:
        # A delivery's Slack or webhook target is the recipient's credential (see platform_common.auth).
        owner = _user_id(self.recipient)
        return [{**d, "target": address_shown(d.get("channel"), d.get("target"), owner)} for d in notifications]


def _user_id(recipient: str) -> uuid.UUID | None:
    # Pages go to a user's id; a page to a name typed in by hand belongs to no user.
    try:
        return uuid.UUID(recipient)
    except ValueError:
        return None


class DeliveryResult(BaseModel):
    """notification-service's report of one delivery's final result (its callback)."""

    notification_id: uuid.UUID
    idempotency_key: str = Field(min_length=1, max_length=255)
    status: Literal["delivered", "failed"]
    channel: str | None = Field(default=None, max_length=20)
    target: str | None = Field(default=None, max_length=2048)
    error: str | None = Field(default=None, max_length=4000)


class DeliveryRecorded(BaseModel):
    # False for a repeat of a result already recorded (reports are retried until taken).
    recorded: bool


MAX_DELIVERY_BATCH = 100


class DeliveryResultItem(DeliveryResult):
    """One result of a batch: a DeliveryResult with the incident its page belongs to."""

    incident_id: uuid.UUID


class DeliveryResultBatch(BaseModel):
    model_config = ConfigDict(extra="forbid")

    # Each item is validated on its own (a DeliveryResultItem), so one bad result is refused alone.
    items: list[dict[str, object]] = Field(min_length=1, max_length=MAX_DELIVERY_BATCH)


class DeliveryBatchItemResult(BaseModel):
    """One result's answer, as `POST /api/v1/incidents/{id}/deliveries` would have given it:
    200 (`recorded` false for a repeat), 404 no such page, 422 invalid (`detail` says why)."""

    status_code: Literal[200, 404, 422]
    recorded: bool | None = None
    detail: str | None = None


class DeliveryBatchResult(BaseModel):
    # In the order of the request's items.
    results: list[DeliveryBatchItemResult]


class IncidentMerge(BaseModel):
    model_config = ConfigDict(extra="forbid")

    incident_ids: list[uuid.UUID] = Field(
        min_length=1,
        max_length=50,
        description="The incidents to fold into this one: their alerts move here, they are resolved with a link"
        " to this one",
    )


class IncidentSplit(BaseModel):
    model_config = ConfigDict(extra="forbid")

    alert_ids: list[uuid.UUID] = Field(
        min_length=1,
        max_length=500,
        description="Alerts of this incident to move into a new incident, which pages as a new one; at least one"
        " alert must stay",
    )


class AlertJoined(BaseModel):
    """alert-ingestion's report that an alert joined an incident already acknowledged."""

    model_config = ConfigDict(extra="forbid")

    alert_id: uuid.UUID


class AlertJoinedRecorded(BaseModel):
    recorded: bool = Field(description="False for a repeat of a report already recorded")
    notified: bool = Field(description="Whether a notice to the assignee was queued")


class IncidentDetail(IncidentRead):
    alerts: list[dict[str, Any]]
    alerts_truncated: bool
    notes: list[NoteRead]
    timeline: list[TimelineRead]
    pages: list[PageRead]


class IncidentMetrics(BaseModel):
    id: uuid.UUID
    status: str
    severity: str
    created_at: datetime
    acknowledged_at: datetime | None
    resolved_at: datetime | None
    mtta_seconds: float | None
    mttr_seconds: float | None
    open_seconds: float
    alert_count: int
    escalation_level: int
    escalations: int
    pages_sent: int
    notes: int
    timeline_events: int


class DurationSummary(BaseModel):
    count: int
    mean: float | None
    p50: float | None
    p95: float | None


class StatsSummary(BaseModel):
    since: datetime
    until: datetime
    service: str | None
    total: int
    by_status: dict[str, int]
    by_severity: dict[str, int]
    mtta_seconds: DurationSummary
    mttr_seconds: DurationSummary


class DayDurations(BaseModel):
    """MTTA or MTTR of one day's incidents: how many had one, their mean and median (seconds)."""

    count: int
    mean: float | None
    p50: float | None


class DayStats(BaseModel):
    """The incidents created on one calendar day (in the series' time zone)."""

    day: date
    total: int
    by_severity: dict[str, int]
    mtta_seconds: DayDurations
    mttr_seconds: DayDurations


class DailyStats(BaseModel):
    """One entry per calendar day in [since, until), days without incidents included."""

    since: datetime
    until: datetime
    timezone: str
    service: str | None
    severity: Severity | None
    days: list[DayStats]


class LinkUser(BaseModel):
    id: uuid.UUID
    name: str


class LinkUsed(BaseModel):
    """When a link acted, and as whom."""

    at: datetime
    by: LinkUser


class LinkPreview(BaseModel):
    """What a signed page link would do; `usable` false with `reason` when it no
    longer can. The incident is shown only while the link can act on it: a
    link used, or whose user may no longer act, or with nothing left to do,
    says why (a used one by whom and when) and shows nothing of the incident
    but its id, which the signed token carries anyway."""

    action: Literal["acknowledge", "resolve"]
    incident_id: uuid.UUID
    incident: IncidentRead | None
    user: LinkUser
    expires_at: datetime
    usable: bool
    reason: str | None
    used: LinkUsed | None
