"""PagerDuty Events API v2 (`POST /v2/enqueue`), wire-compatible with PagerDuty's own.

Rules kept from PagerDuty: a trigger needs `payload` with `summary`, `source`
and `severity` (critical|error|warning|info); acknowledge and resolve need
`dedup_key`; `dedup_key` is at most 255 characters; the summary is cut to 1024
characters (as PagerDuty does) rather than refused; the whole event is at most
512 KB. Unknown fields are ignored.
"""

import hashlib
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, model_validator

from alert_ingestion.domain import severity
from alert_ingestion.domain.alert import IncomingAlert
from alert_ingestion.formats.common import LenientTimestamp, NonBlank
from platform_common.validation import NulFree, StorableJson

MAX_EVENT_BYTES = 512 * 1024
MAX_SUMMARY = 1024


def _cut_summary(value: Any) -> Any:
    return value[:MAX_SUMMARY] if isinstance(value, str) else value


class PagerDutyPayload(BaseModel):
    """The payload of a PagerDuty trigger event."""

    model_config = ConfigDict(extra="ignore", populate_by_name=True)

    summary: Annotated[NonBlank(MAX_SUMMARY), BeforeValidator(_cut_summary)]
    source: NonBlank(255)
    severity: Literal["critical", "error", "warning", "info"]
    timestamp: LenientTimestamp | None = None
    # Stored with the alert (jsonb): no NUL, integers within 64 bits.
    component: NulFree | None = None
    group: NulFree | None = None
    class_: NulFree | None = Field(default=None, alias="class")
    custom_details: Annotated[Any, StorableJson] = None


class PagerDutyEvent(BaseModel):
    """A PagerDuty Events API v2 event: trigger, acknowledge or resolve."""

    model_config = ConfigDict(extra="ignore")

    routing_key: NonBlank(255)
    event_action: Literal["trigger", "acknowledge", "resolve"]
    dedup_key: NonBlank(255) | None = None
    payload: PagerDutyPayload | None = None
    images: Annotated[list[Any] | None, StorableJson] = None
    links: Annotated[list[Any] | None, StorableJson] = None
    client: NulFree | None = None
    client_url: NulFree | None = None

    @model_validator(mode="after")
    def _action_needs(self) -> "PagerDutyEvent":
        if self.event_action == "trigger" and self.payload is None:
            raise ValueError("payload is required for trigger events")
        if self.event_action != "trigger" and self.dedup_key is None:
            raise ValueError(f"dedup_key is required for {self.event_action} events")
        return self


def generated_dedup_key(event_id: str) -> str:
    """A trigger without a dedup_key gets one, returned in the 202 so the sender can resolve it later."""
    return hashlib.sha256(event_id.encode()).hexdigest()[:32]


def to_alert(event: PagerDutyEvent, *, service: str, dedup_key: str) -> IncomingAlert:
    """Acknowledge/resolve events carry no payload; they act on the alerts of their dedup_key."""
    if event.payload is None:
        return IncomingAlert(
            format="pagerduty",
            action=event.event_action,
            service=service,
            severity="info",
            message=f"{event.event_action} {dedup_key}",
            source=event.client or "pagerduty",
            dedup_key=dedup_key,
        )
    payload = event.payload
    labels = {key: value for key, value in (("component", payload.component), ("group", payload.group)) if value}
    if payload.class_:
        labels["class"] = payload.class_
    return IncomingAlert(
        format="pagerduty",
        action=event.event_action,
        service=service,
        severity=severity.from_pagerduty(payload.severity),
        message=payload.summary,
        source=payload.source,
        dedup_key=dedup_key,
        labels=labels,
        event_timestamp=payload.timestamp,
        payload=event.model_dump(mode="json", by_alias=True, exclude={"routing_key"}, exclude_none=True),
    )
