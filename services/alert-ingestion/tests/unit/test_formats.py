"""Format parsing and severity mapping, without HTTP or a database."""

import pytest
from pydantic import ValidationError

from alert_ingestion.domain import severity
from alert_ingestion.formats import alertmanager, pagerduty
from alert_ingestion.formats.common import error_messages


@pytest.mark.parametrize(
    ("label", "ours"),
    [
        ("critical", "critical"),
        ("P1", "critical"),
        ("error", "high"),
        ("Warning", "medium"),
        ("minor", "low"),
        ("info", "info"),
        ("none", "info"),
        (None, "high"),
        ("weird", "high"),
    ],
)
def test_label_severities(label, ours):
    assert severity.from_label(label) == ours


def test_pagerduty_severities():
    assert [severity.from_pagerduty(s) for s in ("critical", "error", "warning", "info")] == [
        "critical",
        "high",
        "medium",
        "info",
    ]


def test_pagerduty_trigger_converts_and_keeps_details():
    event = pagerduty.PagerDutyEvent.model_validate(
        {
            "routing_key": "k",
            "event_action": "trigger",
            "payload": {
                "summary": "s",
                "source": "h",
                "severity": "warning",
                "component": "db",
                "class": "disk",
                "custom_details": {"free": "1%"},
            },
        }
    )
    alert = pagerduty.to_alert(event, service="svc", dedup_key="d")
    assert (alert.action, alert.severity, alert.service, alert.source) == ("trigger", "medium", "svc", "h")
    assert alert.labels == {"component": "db", "class": "disk"}
    assert alert.payload["payload"]["custom_details"] == {"free": "1%"}
    assert "routing_key" not in alert.payload


def test_pagerduty_rules():
    with pytest.raises(ValidationError) as missing_payload:
        pagerduty.PagerDutyEvent.model_validate({"routing_key": "k", "event_action": "trigger"})
    assert "payload is required" in error_messages(missing_payload.value)[0]
    with pytest.raises(ValidationError):
        pagerduty.PagerDutyEvent.model_validate({"routing_key": "k", "event_action": "resolve"})
    resolve = pagerduty.PagerDutyEvent.model_validate({"routing_key": "k", "event_action": "resolve", "dedup_key": "d"})
    assert pagerduty.to_alert(resolve, service="s", dedup_key="d").action == "resolve"


def test_generated_dedup_keys_differ():
    assert pagerduty.generated_dedup_key("a") != pagerduty.generated_dedup_key("b")


def test_alertmanager_group_becomes_one_alert_each():
    webhook = alertmanager.AlertmanagerWebhook.model_validate(
        {
            "version": "4",
            "alerts": [
                {
                    "status": "firing",
                    "labels": {"alertname": "A", "severity": "warning"},
                    "fingerprint": "f1",
                    "startsAt": "2026-01-01T00:00:00.999999999Z",
                    "endsAt": "0001-01-01T00:00:00Z",
                },
                {
                    "status": "resolved",
                    "labels": {"alertname": "B", "instance": "h:1"},
                    "annotations": {"description": "B broke"},
                    "endsAt": "2026-01-01T01:00:00Z",
                },
            ],
        }
    )
    first, second = alertmanager.to_alerts(webhook, service="s", fmt="alertmanager")
    assert (first.action, first.severity, first.dedup_key, first.message) == ("trigger", "medium", "f1", "A")
    assert first.event_timestamp.year == 2026
    assert (second.action, second.severity, second.message, second.source) == ("resolve", "high", "B broke", "h:1")
    assert len(second.dedup_key) == 16  # from its labels


def test_alertmanager_fingerprint_from_labels_ignores_label_order():
    a = alertmanager.WebhookAlert.model_validate({"status": "firing", "labels": {"x": "1", "y": "2"}})
    b = alertmanager.WebhookAlert.model_validate({"status": "firing", "labels": {"y": "2", "x": "1"}})
    hook = alertmanager.AlertmanagerWebhook
    one = alertmanager.to_alerts(hook(alerts=[a]), service="s", fmt="alertmanager")[0]
    two = alertmanager.to_alerts(hook(alerts=[b]), service="s", fmt="alertmanager")[0]
    assert one.dedup_key == two.dedup_key


def test_pagerduty_timestamps_without_offset_are_utc():
    payload = pagerduty.PagerDutyPayload.model_validate(
        {"summary": "s", "source": "h", "severity": "info", "timestamp": "2015-07-17T08:42:58.315"}
    )
    assert payload.timestamp.utcoffset().total_seconds() == 0
    offset = pagerduty.PagerDutyPayload.model_validate(
        {"summary": "s", "source": "h", "severity": "info", "timestamp": "2015-07-17T08:42:58.315+0200"}
    )
    assert offset.timestamp.hour == 8
