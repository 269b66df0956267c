"""Prometheus Alertmanager's webhook (payload version 4) and Grafana-managed
alerting's webhook, which follows the same shape with a few extra fields.

Every alert of the group becomes one internal alert: `firing` triggers,
`resolved` resolves. The alert's `fingerprint` is its dedup key (a hash of its
labels when a sender leaves it out); the message is the `summary` annotation,
else `description`, else the `alertname` label.
"""

import hashlib
import json
from datetime import datetime
from typing import Annotated, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from alert_ingestion.domain import severity
from alert_ingestion.domain.alert import Format, IncomingAlert
from alert_ingestion.formats.common import real_time
from platform_common.validation import NulFree, StorableJson

MAX_ALERTS = 1000


class WebhookAlert(BaseModel):
    """One alert of an Alertmanager (v4) or Grafana webhook."""

    model_config = ConfigDict(extra="ignore")

    status: Literal["firing", "resolved"]
    # Stored with the alert (jsonb, text): no NUL anywhere.
    labels: Annotated[dict[str, str], StorableJson] = Field(min_length=1)
    annotations: Annotated[dict[str, str], StorableJson] = Field(default_factory=dict)
    startsAt: AwareDatetime | None = None  # noqa: N815 - the wire name
    endsAt: AwareDatetime | None = None  # noqa: N815
    generatorURL: NulFree | None = None  # noqa: N815
    # Grafana's own: kept with the alert so a responder can follow them from the UI.
    dashboardURL: NulFree | None = None  # noqa: N815
    panelURL: NulFree | None = None  # noqa: N815
    silenceURL: NulFree | None = None  # noqa: N815
    imageURL: NulFree | None = None  # noqa: N815
    valueString: NulFree | None = None  # noqa: N815
    fingerprint: NulFree | None = Field(default=None, max_length=255)


class AlertmanagerWebhook(BaseModel):
    """Alertmanager's webhook body (version 4): a group of alerts."""

    model_config = ConfigDict(extra="ignore")

    version: str | None = None
    groupKey: str | None = None  # noqa: N815
    status: Literal["firing", "resolved"] | None = None
    receiver: str | None = None
    externalURL: str | None = None  # noqa: N815
    alerts: list[WebhookAlert] = Field(min_length=1, max_length=MAX_ALERTS)


class GrafanaWebhook(AlertmanagerWebhook):
    """Grafana's webhook body: Alertmanager's, with a few fields of its own."""

    title: str | None = None
    message: str | None = None
    orgId: int | None = None  # noqa: N815


def _labels_fingerprint(labels: dict[str, str]) -> str:
    return hashlib.sha256(json.dumps(labels, sort_keys=True).encode()).hexdigest()[:16]


def _message(alert: WebhookAlert) -> str:
    for text in (alert.annotations.get("summary"), alert.annotations.get("description")):
        if text and text.strip():
            return text.strip()
    name = alert.labels.get("alertname", "alert")
    instance = alert.labels.get("instance")
    return f"{name} on {instance}" if instance else name


def _timestamp(alert: WebhookAlert) -> datetime | None:
    return real_time(alert.endsAt if alert.status == "resolved" else alert.startsAt)


def to_alerts(webhook: AlertmanagerWebhook, *, service: str, fmt: Format) -> list[IncomingAlert]:
    """One internal alert per alert in the group, in the order sent."""
    sender = fmt
    alerts = []
    for alert in webhook.alerts:
        alerts.append(
            IncomingAlert(
                format=fmt,
                action="resolve" if alert.status == "resolved" else "trigger",
                service=service,
                severity=severity.from_label(alert.labels.get("severity")),
                message=_message(alert)[:10_000],
                source=(alert.labels.get("instance") or alert.labels.get("job") or sender)[:255],
                dedup_key=alert.fingerprint or _labels_fingerprint(alert.labels),
                labels=dict(alert.labels),
                event_timestamp=_timestamp(alert),
                payload=alert.model_dump(mode="json", exclude_none=True),
            )
        )
    return alerts
