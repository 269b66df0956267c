"""The one internal alert every format is converted into."""

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

Severity = Literal["critical", "high", "medium", "low", "info"]
SEVERITIES: tuple[Severity, ...] = ("critical", "high", "medium", "low", "info")
Format = Literal["generic", "pagerduty", "alertmanager", "grafana"]
# trigger opens or joins an incident; acknowledge/resolve act on the alerts of a dedup key.
EventAction = Literal["trigger", "acknowledge", "resolve"]
Outcome = Literal["created", "correlated", "deduplicated"]


@dataclass(frozen=True)
class IncomingAlert:
    """An alert as received, after its format's parsing and severity mapping."""

    format: Format
    action: EventAction
    service: str
    severity: Severity
    message: str
    source: str
    dedup_key: str | None = None
    labels: dict[str, Any] = field(default_factory=dict)
    event_timestamp: datetime | None = None
    payload: dict[str, Any] | None = None
