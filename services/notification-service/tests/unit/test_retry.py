"""Retry rules: what is retried, how long the waits are, when it stops."""

from datetime import UTC, datetime, timedelta

import pytest

from notification_service.config import Settings
from notification_service.domain.retry import (
    Outcome,
    classify_http_status,
    classify_smtp_code,
    next_step,
    parse_retry_after,
)

NOW = datetime(2026, 3, 29, 1, 30, tzinfo=UTC)


@pytest.mark.parametrize(
    ("status", "outcome"),
    [
        (200, Outcome.SUCCESS),
        (204, Outcome.SUCCESS),
        (301, Outcome.PERMANENT),
        (400, Outcome.PERMANENT),
        (401, Outcome.PERMANENT),
        (404, Outcome.PERMANENT),
        (410, Outcome.PERMANENT),
        (408, Outcome.RETRYABLE),
        (429, Outcome.RETRYABLE),
        (500, Outcome.RETRYABLE),
        (502, Outcome.RETRYABLE),
        (503, Outcome.RETRYABLE),
    ],
)
def test_http_answers(status, outcome):
    assert classify_http_status(status) is outcome


@pytest.mark.parametrize(
    ("code", "outcome"),
    [(250, Outcome.SUCCESS), (421, Outcome.RETRYABLE), (451, Outcome.RETRYABLE), (550, Outcome.PERMANENT)],
)
def test_smtp_replies(code, outcome):
    assert classify_smtp_code(code) is outcome


def step(outcome, attempts=1, max_attempts=5, retry_after=None):
    return next_step(
        outcome=outcome,
        attempts=attempts,
        max_attempts=max_attempts,
        now=NOW,
        base=5,
        cap=600,
        rand=0.0,
        retry_after=retry_after,
    )


def test_success_is_delivered():
    assert step(Outcome.SUCCESS).status == "delivered"


def test_permanent_error_fails_at_once():
    assert step(Outcome.PERMANENT, attempts=1).status == "failed"


def test_retryable_error_waits_then_fails_on_the_last_attempt():
    retry = step(Outcome.RETRYABLE, attempts=2)
    assert retry.status == "pending"
    assert retry.next_attempt_at == NOW + timedelta(seconds=5)
    assert step(Outcome.RETRYABLE, attempts=5, max_attempts=5).status == "failed"


def test_retry_after_longer_than_the_backoff_is_honoured_up_to_the_cap():
    assert step(Outcome.RETRYABLE, retry_after=30).next_attempt_at == NOW + timedelta(seconds=30)
    assert step(Outcome.RETRYABLE, retry_after=86400).next_attempt_at == NOW + timedelta(seconds=600)
    assert step(Outcome.RETRYABLE, retry_after=1).next_attempt_at == NOW + timedelta(seconds=2.5)


@pytest.mark.parametrize(
    ("header", "seconds"),
    [("120", 120.0), (" 5 ", 5.0), (None, None), ("", None), ("-3", None), ("Wed, 21 Oct 2026 07:28:00 GMT", None)],
)
def test_retry_after_header(header, seconds):
    assert parse_retry_after(header) == seconds


def test_the_default_retries_outlast_a_receiver_down_for_ten_minutes():
    """With 5 attempts a page gave up 37-75 s into a receiver's outage: the fault
    bench's webhook-500:300 left the failing person's pages undelivered. With the
    default settings and the shortest waits (rand 0), the last attempt comes more
    than ten minutes after the first."""
    settings = Settings()
    now, attempts = NOW, 1
    while (
        result := next_step(
            outcome=Outcome.RETRYABLE,
            attempts=attempts,
            max_attempts=settings.notification_max_attempts,
            now=now,
            base=settings.notification_retry_base_seconds,
            cap=settings.notification_retry_max_seconds,
            rand=0.0,
        )
    ).status == "pending":
        now, attempts = result.next_attempt_at, attempts + 1
    assert now - NOW > timedelta(minutes=10)
