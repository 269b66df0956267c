"""Jinja2 templates per channel and event, overridable from a directory.

Lookup for (channel, event, kind): `<channel>/<event>.<kind>`, then
`<channel>/notice.<kind>` for a notice about no incident, else
`<channel>/default.<kind>`, first in NOTIFICATION_TEMPLATES_DIR, then in the
built-in `templates/` folder, so an operator replaces only what they need.
"""

from pathlib import Path
from typing import Any

from jinja2 import (
    ChoiceLoader,
    Environment,
    FileSystemLoader,
    PackageLoader,
    StrictUndefined,
    TemplateError,
    select_autoescape,
)

from notification_service.domain.messages import NOTICE_EVENTS, message_context, slack_escape
from platform_db.enums import NOTIFICATION_EVENTS

# What each channel renders: an email has a subject, a text part and an HTML part.
KINDS = {
    "email": ("subject.txt", "txt", "html"),
    "slack": ("txt",),
    "webhook": ("txt",),
    "log": ("txt",),
}


class TemplateProblem(Exception):
    """A template is missing or does not render; the delivery cannot succeed as configured."""


def _text(value: Any) -> str:
    return "" if value is None else value


def _slack(value: Any) -> str:
    # Every {{ value }} in a Slack template is escaped for mrkdwn, as HTML is
    # autoescaped: an incident titled "<!channel>" must not ping a channel.
    return "" if value is None else slack_escape(str(value))


class Renderer:
    """Renders notifications from the templates folder, one per channel, event and kind."""

    def __init__(self, override_dir: Path | None = None) -> None:
        loaders = [FileSystemLoader(str(override_dir))] if override_dir else []
        loader = ChoiceLoader([*loaders, PackageLoader("notification_service", "templates")])
        common = {"loader": loader, "undefined": StrictUndefined, "keep_trailing_newline": False}
        self._default = Environment(autoescape=select_autoescape(["html"]), finalize=_text, **common)
        self._slack = Environment(autoescape=False, finalize=_slack, **common)  # noqa: S701 - mrkdwn, escaped by finalize  # nosec B701

    def render(self, channel: str, event: str, kind: str, context: dict[str, Any]) -> str:
        """The text of one notification."""
        env = self._slack if channel == "slack" else self._default
        fallback = "default" if context["incident"] else "notice"
        names = [f"{channel}/{event}.{kind}", f"{channel}/{fallback}.{kind}"]
        try:
            return env.select_template(names).render(context).strip()
        except TemplateError as exc:
            raise TemplateProblem(f"template {names[0]} (or default): {type(exc).__name__}: {exc}") from exc

    def check(self) -> None:
        """Render every channel, event and kind once with sample data, so a
        broken override fails at start-up rather than at 3 a.m. on a page."""
        incident = {
            "id": "00000000-0000-0000-0000-000000000000",
            "title": "Sample",
            "service": "sample",
            "severity": "critical",
            "status": "open",
            "url": None,
        }
        for event in NOTIFICATION_EVENTS:
            context = message_context(
                notification_id="sample",
                event=event,
                incident=None if event in NOTICE_EVENTS else incident,
                message="sample",
                recipient="sample",
                ui_base_url="http://ui.invalid",
            )
            for channel, kinds in KINDS.items():
                for kind in kinds:
                    self.render(channel, event, kind, context)
