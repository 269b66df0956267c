"""The shapes receivers get: the template context, the webhook body and its
signature, Slack blocks."""

import hashlib
import hmac
from datetime import datetime
from typing import Any

EVENT_TITLES = {
    "triggered": "Triggered",
    "escalated": "Escalated",
    "acknowledged": "Acknowledged",
    "resolved": "Resolved",
    "reassigned": "Reassigned",
    "test": "Test page",
    "shift_start": "You are on call",
    "shift_end": "Your shift ended",
    "shift_summary": "Your on-call week",
    "alert_joined": "New alert",
}
# Notices about no incident: a contact method's test page, "you are on call" (oncall-service sends them).
NOTICE_EVENTS = frozenset({"test", "shift_start", "shift_end", "shift_summary"})
SEVERITY_MARKS = {"critical": "🔴", "high": "🟠", "medium": "🟡", "low": "🔵", "info": "⚪"}
# Slack's documented limits; longer text is refused with 400 invalid_blocks.
SLACK_HEADER_MAX = 150
SLACK_TEXT_MAX = 3000


def incident_links(incident: dict[str, Any] | None, ui_base_url: str, actions: dict[str, str] | None) -> dict[str, str]:
    """Where a responder goes from a page: the incident in the UI, and the signed
    one-click acknowledge/resolve links the caller made for this recipient.
    Without them (a page to bare targets, no user) the buttons open the incident.
    A notice about no incident links to the UI itself."""
    if incident is None:
        home = ui_base_url.rstrip("/") + "/"
        return {"incident": home, "acknowledge": home, "resolve": home}
    base = f"{ui_base_url.rstrip('/')}/incidents/{incident['id']}"
    return {
        "incident": incident.get("url") or base,
        "acknowledge": (actions or {}).get("acknowledge") or base,
        "resolve": (actions or {}).get("resolve") or base,
    }


def message_context(
    *,
    notification_id: str,
    event: str,
    incident: dict[str, Any] | None,
    message: str | None,
    recipient: str,
    ui_base_url: str,
    actions: dict[str, str] | None = None,
) -> dict[str, Any]:
    """Everything a template may use; the same for every channel."""
    return {
        "notification_id": notification_id,
        "event": event,
        "event_title": EVENT_TITLES.get(event, event.title()),
        "incident": incident,
        "severity_mark": SEVERITY_MARKS.get((incident or {}).get("severity", ""), ""),
        "message": message,
        "recipient": recipient,
        "links": _offered(event, incident_links(incident, ui_base_url, actions)),
    }


def _offered(event: str, links: dict[str, str]) -> dict[str, str]:
    """The links a message offers: a new alert in an incident already acknowledged
    (`alert_joined`) leaves out the acknowledge link, so no receiver that shows
    every link it is given offers to acknowledge it again."""
    if event == "alert_joined":
        return {name: url for name, url in links.items() if name != "acknowledge"}
    return links


def webhook_body(context: dict[str, Any], summary: str, sent_at: datetime) -> dict[str, Any]:
    """The generic webhook's JSON. The timestamp is inside the signed body too,
    so a receiver can refuse replays without trusting an unsigned header."""
    return {
        "id": context["notification_id"],
        "event": context["event"],
        "timestamp": sent_at.isoformat(),
        "incident": context["incident"],
        "message": context["message"],
        "summary": summary,
        "recipient": context["recipient"],
        "links": context["links"],
    }


# Receivers recompute the HMAC over the raw body to know it came from us.
SIGNATURE_HEADER = "X-Signature-256"
TIMESTAMP_HEADER = "X-Timestamp"


def sign(body: bytes, secret: bytes) -> str:
    """`sha256=<hex HMAC-SHA256 of body>`, GitHub's convention, which many receivers already verify."""
    return "sha256=" + hmac.new(secret, body, hashlib.sha256).hexdigest()


def verify(body: bytes, secret: bytes, header: str) -> bool:
    """Constant-time check of a signature header, as a receiver does it."""
    return hmac.compare_digest(sign(body, secret), header)


def _truncate(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def slack_escape(text: str) -> str:
    """Slack mrkdwn control characters; everything else is literal."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def slack_payload(context: dict[str, Any], text: str) -> dict[str, Any]:
    """An incoming-webhook message: header, facts, the rendered text, and buttons into the UI.

    `text` is the template's mrkdwn (already escaped); it doubles as the
    notification fallback that Slack shows where blocks are not rendered.
    """
    incident = context["incident"]
    links = context["links"]
    event = context["event"]
    if incident is None:  # a notice: its text and nothing to act on
        return {"text": _truncate(text, SLACK_TEXT_MAX)}
    buttons = []
    if event in ("triggered", "escalated"):
        buttons.append(_button("Acknowledge", links["acknowledge"], "primary"))
    if event != "resolved":
        buttons.append(_button("Resolve", links["resolve"], "danger"))
    buttons.append(_button("Open incident", links["incident"]))
    header = f"{context['severity_mark']} {context['event_title']}: {incident['title']}".strip()
    facts = {
        "Severity": incident["severity"],
        "Service": incident["service"],
        "Status": incident.get("status") or "unknown",
    }
    return {
        "text": _truncate(text, SLACK_TEXT_MAX),
        "blocks": [
            {"type": "header", "text": {"type": "plain_text", "text": _truncate(header, SLACK_HEADER_MAX)}},
            {
                "type": "section",
                "fields": [{"type": "mrkdwn", "text": f"*{k}*\n{slack_escape(str(v))}"} for k, v in facts.items()],
            },
            {"type": "section", "text": {"type": "mrkdwn", "text": _truncate(text, SLACK_TEXT_MAX)}},
            {"type": "actions", "elements": buttons},
        ],
    }


def _button(label: str, url: str, style: str | None = None) -> dict[str, Any]:
    button: dict[str, Any] = {"type": "button", "text": {"type": "plain_text", "text": label}, "url": url}
    if style:
        button["style"] = style
    return button
