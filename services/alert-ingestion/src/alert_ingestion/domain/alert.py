"""The one internal alert every format is converted into."""

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from platform_db.enums import AlertFormat as Format
from platform_db.enums import Severity

# trigger opens or joins an incident; acknowledge/resolve act on the alerts of a dedup key.
EventAction = Literal["trigger", "acknowledge", "resolve"]


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
