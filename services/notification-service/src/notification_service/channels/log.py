"""The log channel: a page as a log line, for local runs without any receiver."""

import logging
from datetime import datetime
from typing import Any

from notification_service.channels.base import AttemptResult
from notification_service.domain.retry import Outcome
from notification_service.rendering import Renderer

log = logging.getLogger("notification_service.pages")


class LogChannel:
    """Writes the notification to the log: local runs and tests."""

    def __init__(self, renderer: Renderer) -> None:
        self.renderer = renderer

    async def send(self, *, target: str, context: dict[str, Any], now: datetime) -> AttemptResult:
        """Log the rendered notification; always delivered."""
        text = self.renderer.render("log", context["event"], "txt", context)
        log.warning(
            text,
            extra={
                "notification_id": context["notification_id"],
                "incident_id": (context["incident"] or {}).get("id"),
                "event": context["event"],
                "target": target,
            },
        )
        return AttemptResult(Outcome.SUCCESS)
