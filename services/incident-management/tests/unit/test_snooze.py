"""Snooze rules: only an acknowledged incident, and only one still acknowledged reopens."""

from datetime import UTC, datetime, timedelta

import pytest

from incident_management.domain import snooze
from incident_management.domain.state import Lifecycle, Status, transition
from incident_management.domain.timeline import Actor

NOW = datetime(2026, 12, 7, 10, 0, tzinfo=UTC)


def test_a_snooze_ends_its_minutes_from_now():
    assert snooze.snooze_until("acknowledged", 30, NOW) == NOW + timedelta(minutes=30)


@pytest.mark.parametrize("status", ["open", "in_progress", "resolved"])
def test_only_an_acknowledged_incident_may_be_snoozed(status):
    with pytest.raises(snooze.NotSnoozable, match=status):
        snooze.snooze_until(status, 30, NOW)


def test_only_a_still_acknowledged_incident_reopens():
    assert snooze.reopens("acknowledged")
    assert not snooze.reopens("resolved") and not snooze.reopens("in_progress")


def test_the_entries_say_until_when_and_who_is_paged():
    entry = snooze.snoozed(NOW + timedelta(minutes=30), 30, Actor("ann"))
    assert (entry.event_type, entry.actor.name) == ("snoozed", "ann")
    assert "10:30" in entry.message
    assert "assignee is paged again" in snooze.snooze_ended("u1").message
    assert "on-call" in snooze.snooze_ended(None).message


def test_a_reopened_incident_keeps_its_first_mtta():
    opened = Lifecycle(status=Status.OPEN, created_at=NOW)
    acknowledged = transition(opened, Status.ACKNOWLEDGED, NOW + timedelta(minutes=2))
    reopened = Lifecycle(
        status=Status.OPEN,
        created_at=NOW,
        acknowledged_at=acknowledged.acknowledged_at,
        mtta_seconds=acknowledged.mtta_seconds,
    )
    again = transition(reopened, Status.ACKNOWLEDGED, NOW + timedelta(hours=1))
    assert again.mtta_seconds == 120 and again.acknowledged_at == NOW + timedelta(minutes=2)
