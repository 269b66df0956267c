"""Maintenance windows' periods and heartbeats' deadlines and alerts: pure rules."""

from datetime import UTC, datetime, timedelta

import pytest

from alert_ingestion.domain import heartbeat, maintenance

NOW = datetime(2026, 12, 7, 10, 4, 30, tzinfo=UTC)


def test_a_window_without_a_start_starts_now():
    end = NOW + timedelta(hours=1)
    assert maintenance.period(None, end, NOW) == (NOW, end)


@pytest.mark.parametrize(
    ("start", "end"),
    [
        (NOW, NOW),  # empty
        (NOW + timedelta(hours=2), NOW + timedelta(hours=1)),  # backwards
        (NOW - timedelta(hours=2), NOW - timedelta(hours=1)),  # over already
    ],
)
def test_a_window_that_silences_nothing_is_refused(start, end):
    with pytest.raises(maintenance.BadPeriod):
        maintenance.period(start, end, NOW)


def test_a_window_is_active_from_its_start_until_just_before_its_end():
    start, end = NOW, NOW + timedelta(minutes=30)
    assert maintenance.is_active(start, end, NOW)
    assert not maintenance.is_active(start, end, end)
    assert not maintenance.is_active(start, end, NOW - timedelta(seconds=1))


def test_a_late_heartbeat_raises_one_critical_alert_per_heartbeat():
    assert heartbeat.next_due(NOW, 300) == NOW + timedelta(minutes=5)
    alert = heartbeat.missed(
        heartbeat_id="h1", name="prometheus-watchdog", service="monitoring", since=NOW, interval_seconds=300
    )
    assert alert.message == "heartbeat prometheus-watchdog missed since 10:04 UTC"
    assert (alert.action, alert.severity, alert.service) == ("trigger", "critical", "monitoring")
    back = heartbeat.back(heartbeat_id="h1", name="prometheus-watchdog", service="monitoring")
    assert back.action == "resolve" and back.dedup_key == alert.dedup_key == "heartbeat:h1"
