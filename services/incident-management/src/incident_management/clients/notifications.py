"""notification-service: hand a page over (its deliveries' final results come back to
`POST /api/v1/incidents/{id}/deliveries`)."""

from dataclasses import dataclass
from typing import Any

import httpx

from platform_common.http import RetryableStatus, ServiceClient

FINAL_STATUSES = frozenset({"delivered", "failed", "suppressed"})


class NotificationUnavailable(Exception):
    """notification-service could not take the page now; keep it and retry."""


class NotificationRejected(Exception):
    """notification-service refused the page for good (a 4xx); retrying cannot help."""


@dataclass(frozen=True)
class PageRequest:
    """A page to send: who, about which incident, at which step."""

    idempotency_key: str
    event: str
    user_id: str
    incident: dict[str, Any]
    contact: dict[str, Any]
    callback_url: str
    message: str | None = None
    # The recipient's signed acknowledge/resolve links (services/links.page_actions).
    actions: dict[str, str] | None = None


class NotificationClient:
    """Calls to notification-service."""

    def __init__(self, client: ServiceClient) -> None:
        self.client = client

    async def notify(self, page: PageRequest) -> list[dict[str, Any]]:
        """POST /api/v1/notify; returns the deliveries it created (or, for a repeated key, created before)."""
        body = {
            "idempotency_key": page.idempotency_key,
            "event": page.event,
            "incident": page.incident,
            "user_id": page.user_id,
            "contact": page.contact,
            "targets": None,
            "message": page.message,
            "callback_url": page.callback_url,
            "actions": page.actions,
        }
        try:
            response = await self.client.post("/api/v1/notify", json=body)
        except RetryableStatus as exc:
            raise NotificationUnavailable(f"notification-service unavailable: {exc}") from exc
        except httpx.HTTPError as exc:
            raise NotificationUnavailable(f"notification-service unreachable: {type(exc).__name__}") from exc
        if response.status_code in (200, 201, 202):
            try:
                items = response.json().get("notifications") or []
            except (ValueError, AttributeError):
                items = []  # accepted all the same: the page must not be sent again
            return [_delivery(item) for item in items if isinstance(item, dict)]
        if response.status_code == 429 or response.status_code >= 500:
            raise NotificationUnavailable(f"notification-service answered {response.status_code}")
        raise NotificationRejected(
            f"notification-service refused the page: {response.status_code} {response.text[:300]}"
        )

    async def aclose(self) -> None:
        """Close the HTTP client."""
        await self.client.aclose()


def _delivery(item: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": str(item.get("id")),
        "channel": item.get("channel"),
        "target": item.get("target"),
        "status": item.get("status"),
        "error": item.get("last_error") or item.get("reason"),
    }
