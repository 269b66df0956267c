"""The platform's own alert format: `POST /api/v1/alerts`."""

from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field

from alert_ingestion.domain.alert import IncomingAlert, Severity
from alert_ingestion.formats.common import NonBlank
from platform_common.validation import AwareUtcDatetime, StorableJson


class GenericAlertIn(BaseModel):
    """The platform's own alert format."""

    model_config = ConfigDict(extra="ignore")

    # Optional only when the alert comes with an integration key, which names the service.
    service: NonBlank(200) | None = None
    severity: Severity
    message: NonBlank(10_000)
    source: NonBlank(255) | None = None
    labels: Annotated[dict[str, Any], StorableJson] = Field(default_factory=dict)
    timestamp: AwareUtcDatetime | None = None
    dedup_key: NonBlank(255) | None = None


def to_alert(alert_in: GenericAlertIn, *, service: str) -> IncomingAlert:
    """A generic alert always triggers."""
    return IncomingAlert(
        format="generic",
        action="trigger",
        service=service,
        severity=alert_in.severity,
        message=alert_in.message,
        source=alert_in.source or "api",
        dedup_key=alert_in.dedup_key,
        labels=alert_in.labels,
        event_timestamp=alert_in.timestamp,
    )
