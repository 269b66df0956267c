"""Email over SMTP: a text part and an HTML part, STARTTLS or implicit TLS when configured.

smtplib (the standard library) runs in a worker thread: one short
conversation per page does not need an async SMTP client as a dependency.
"""

import asyncio
import smtplib
import ssl
from datetime import datetime
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from typing import Any

from notification_service.channels.base import AttemptResult, short
from notification_service.config import Settings
from notification_service.domain.retry import Outcome, classify_smtp_code
from notification_service.rendering import Renderer


class EmailChannel:
    """Email over SMTP."""

    def __init__(self, settings: Settings, renderer: Renderer) -> None:
        self.settings = settings
        self.renderer = renderer

    def build_message(self, *, target: str, context: dict[str, Any], now: datetime) -> EmailMessage:
        """The email for one notification."""
        event = context["event"]
        subject = self.renderer.render("email", event, "subject.txt", context)
        message = EmailMessage()
        # Header injection is impossible: EmailMessage refuses CR/LF in headers,
        # and the subject is folded to one line here.
        message["Subject"] = " ".join(subject.split())
        message["From"] = self.settings.smtp_from
        message["To"] = target
        message["Date"] = format_datetime(now)
        domain = self.settings.smtp_from.rpartition("@")[2].strip("> ") or "localhost"
        message["Message-ID"] = make_msgid(domain=domain)
        # Every page of one incident references the same id, so mail clients thread them.
        if context["incident"]:
            message["References"] = f"<incident-{context['incident']['id']}@{domain}>"
        message["X-Notification-Id"] = context["notification_id"]
        message.set_content(self.renderer.render("email", event, "txt", context))
        message.add_alternative(self.renderer.render("email", event, "html", context), subtype="html")
        return message

    async def send(self, *, target: str, context: dict[str, Any], now: datetime) -> AttemptResult:
        """Send the email; a refusal or an unreachable server is a failed attempt."""
        if not self.settings.smtp_host:
            return AttemptResult(Outcome.PERMANENT, "email is not configured here (set SMTP_HOST)")
        try:
            message = self.build_message(target=target, context=context, now=now)
        except ValueError as exc:
            # A line break in an address or header: the same message can never be built.
            return AttemptResult(Outcome.PERMANENT, short(f"cannot build the email: {exc}"))
        return await asyncio.to_thread(self._send, message, target)

    def _tls_context(self) -> ssl.SSLContext:
        cafile = str(self.settings.smtp_ca_file) if self.settings.smtp_ca_file else None
        return ssl.create_default_context(cafile=cafile)

    def _send(self, message: EmailMessage, target: str) -> AttemptResult:
        settings = self.settings
        smtp_class = smtplib.SMTP_SSL if settings.smtp_ssl else smtplib.SMTP
        extra: dict[str, Any] = {"context": self._tls_context()} if settings.smtp_ssl else {}
        try:
            with smtp_class(
                settings.smtp_host, settings.smtp_port, timeout=settings.smtp_timeout_seconds, **extra
            ) as smtp:
                if settings.smtp_starttls:
                    smtp.starttls(context=self._tls_context())
                if settings.smtp_username and settings.smtp_password:
                    smtp.login(settings.smtp_username, settings.smtp_password.get_secret_value())
                smtp.send_message(message, to_addrs=[target])
        except smtplib.SMTPRecipientsRefused as exc:
            code, reply = exc.recipients.get(target, (550, b"recipient refused"))
            return AttemptResult(classify_smtp_code(code), short(f"recipient refused: {code} {_text(reply)}"), code)
        except smtplib.SMTPNotSupportedError as exc:
            return AttemptResult(Outcome.PERMANENT, short(f"SMTP server does not support it: {exc}"))
        except smtplib.SMTPResponseException as exc:
            reply = f"{exc.smtp_code} {_text(exc.smtp_error)}"
            return AttemptResult(classify_smtp_code(exc.smtp_code), short(f"SMTP refused: {reply}"), exc.smtp_code)
        except ssl.SSLError as exc:
            return AttemptResult(Outcome.RETRYABLE, short(f"TLS failed: {exc}"))
        except (smtplib.SMTPException, OSError) as exc:
            # Disconnects, refused connections, timeouts: the relay may be back soon.
            return AttemptResult(Outcome.RETRYABLE, short(f"{type(exc).__name__}: {exc}"))
        return AttemptResult(Outcome.SUCCESS, response_status=250)


def _text(reply: bytes | str) -> str:
    return reply.decode(errors="replace") if isinstance(reply, bytes) else str(reply)
