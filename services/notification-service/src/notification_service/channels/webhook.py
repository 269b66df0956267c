"""Generic webhook: our JSON, signed so the receiver can tell it came from us."""

import json
from datetime import datetime
from typing import Any

import httpx

from notification_service.channels.base import AttemptResult, post_json
from notification_service.domain.messages import SIGNATURE_HEADER, TIMESTAMP_HEADER, sign, webhook_body
from notification_service.rendering import Renderer


class WebhookChannel:
    """A JSON POST to the contact method's URL."""

    def __init__(
        self, http: httpx.AsyncClient, renderer: Renderer, secret: bytes, *, public_only: bool = False
    ) -> None:
        self.http = http
        self.renderer = renderer
        self.secret = secret
        self.public_only = public_only

    async def send(self, *, target: str, context: dict[str, Any], now: datetime) -> AttemptResult:
        """POST the notification to the URL."""
        summary = self.renderer.render("webhook", context["event"], "txt", context)
        # Serialise once: the signature must cover exactly the bytes sent.
        body = json.dumps(webhook_body(context, summary, now), separators=(",", ":")).encode()
        headers = {
            SIGNATURE_HEADER: sign(body, self.secret),
            TIMESTAMP_HEADER: str(int(now.timestamp())),
            # Stable across retries, so a receiver can drop a repeat of a delivery it already has.
            "X-Notification-Id": context["notification_id"],
            "X-Notification-Event": context["event"],
        }
        return await post_json(self.http, target, body, headers, public_only=self.public_only)
