"""notification-service: the notices oncall-service sends (a contact method's test
page, "you are on call"); notification-service owns every delivery."""

from dataclasses import dataclass
from typing import Any

import httpx

from platform_common.http import RetryableStatus, ServiceClient


class NoticeUnavailable(Exception):
    """notification-service could not take the notice now; worth trying again later."""


class NoticeRejected(Exception):
    """notification-service refused the notice (a 4xx); trying again cannot help."""


@dataclass(frozen=True)
class Notice:
    """A notice to one user over the contact methods given, about no incident."""

    idempotency_key: str
    event: str
    user_id: str
    name: str
    contact_methods: list[dict[str, str]]
    message: str


class NotificationClient:
    """Calls to notification-service."""

    def __init__(self, client: ServiceClient) -> None:
        self.client = client

    async def notify(self, notice: Notice) -> list[dict[str, Any]]:
        """POST /api/v1/notify; the deliveries it made (a repeated key: those made before)."""
        body = {
            "idempotency_key": notice.idempotency_key,
            "event": notice.event,
            "incident": None,
            "user_id": notice.user_id,
            # The user's own mutes are for incidents; a notice they asked for goes out.
            "contact": {"name": notice.name, "contact_methods": notice.contact_methods},
            "message": notice.message,
        }
        try:
            response = await self.client.post("/api/v1/notify", json=body)
        except RetryableStatus as exc:
            raise NoticeUnavailable(f"notification-service unavailable: {exc}") from exc
        except httpx.HTTPError as exc:
            raise NoticeUnavailable(f"notification-service unreachable: {type(exc).__name__}") from exc
        if response.status_code in (200, 202):
            return [n for n in response.json().get("notifications") or [] if isinstance(n, dict)]
        if response.status_code == 429 or response.status_code >= 500:
            raise NoticeUnavailable(f"notification-service answered {response.status_code}")
        raise NoticeRejected(f"notification-service refused the notice: {response.status_code} {response.text[:300]}")

    async def aclose(self) -> None:
        """Close the HTTP client."""
        await self.client.aclose()
