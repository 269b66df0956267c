"""The email a responder gets, built without sending it."""

from datetime import UTC, datetime

from notification_service.channels.email import EmailChannel
from notification_service.config import Settings
from notification_service.domain.messages import message_context
from notification_service.domain.retry import Outcome
from notification_service.rendering import Renderer

NOW = datetime(2026, 11, 23, 9, 30, tzinfo=UTC)


def channel() -> EmailChannel:
    return EmailChannel(Settings(smtp_host="smtp.invalid", smtp_from="Pager <pager@example.com>"), Renderer())


def context(title: str = "Queue backlog") -> dict:
    incident = {"id": "6f1c2a52-3b7e-4d55-9d0f-7f3f7b0c9a11", "title": title, "service": "jobs", "severity": "high"}
    incident["status"] = "open"
    return message_context(
        notification_id="n-1",
        event="escalated",
        incident=incident,
        message=None,
        recipient="u",
        ui_base_url="http://ui",
    )


def test_headers_thread_one_incidents_pages_together():
    message = channel().build_message(target="ops@example.com", context=context(), now=NOW)
    assert message["From"] == "Pager <pager@example.com>"
    assert message["References"] == "<incident-6f1c2a52-3b7e-4d55-9d0f-7f3f7b0c9a11@example.com>"
    assert message["Message-ID"].endswith("@example.com>")
    assert message["Date"] == "Mon, 23 Nov 2026 09:30:00 +0000"
    assert message["Subject"] == "[HIGH] Escalated: Queue backlog (jobs)"
    assert "This incident was escalated to you." in message.get_body(("plain",)).get_content()


def test_a_title_with_line_breaks_stays_one_subject_line():
    message = channel().build_message(target="ops@example.com", context=context("line one\r\nBcc: evil@x"), now=NOW)
    assert message["Subject"] == "[HIGH] Escalated: line one Bcc: evil@x (jobs)"
    assert message["Bcc"] is None


async def test_an_address_with_a_line_break_fails_for_good_without_sending():
    result = await channel().send(target="ops@example.com\r\nBcc: evil@x", context=context(), now=NOW)
    assert result.outcome is Outcome.PERMANENT
    assert "cannot build the email" in result.error


async def test_without_a_relay_configured_email_fails_with_the_reason():
    unconfigured = EmailChannel(Settings(), Renderer())
    result = await unconfigured.send(target="ops@example.com", context=context(), now=NOW)
    assert (result.outcome, result.error) == (Outcome.PERMANENT, "email is not configured here (set SMTP_HOST)")
