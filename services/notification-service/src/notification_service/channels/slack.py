"""Slack-compatible incoming webhook (also Mattermost and Rocket.Chat): blocks with buttons into the UI."""

import json
from datetime import datetime
from typing import Any

import httpx

from notification_service.channels.base import AttemptResult, post_json
from notification_service.domain.messages import slack_payload
from notification_service.rendering import Renderer


class SlackChannel:
    """Slack through an incoming webhook URL."""

    def __init__(self, http: httpx.AsyncClient, renderer: Renderer, *, public_only: bool = False) -> None:
        self.http = http
        self.renderer = renderer
        self.public_only = public_only

    async def send(self, *, target: str, context: dict[str, Any], now: datetime) -> AttemptResult:
        """Post the message to the webhook URL."""
        text = self.renderer.render("slack", context["event"], "txt", context)
        body = json.dumps(slack_payload(context, text)).encode()
        headers = {"X-Notification-Id": context["notification_id"]}
        return await post_json(self.http, target, body, headers, public_only=self.public_only)
