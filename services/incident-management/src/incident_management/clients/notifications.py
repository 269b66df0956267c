"""notification-service: hand a page over, and read back what became of it."""

import uuid
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
    message: str | None = None


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
            "targets": None,
            "message": page.message,
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

    async def deliveries(self, incident_id: uuid.UUID) -> dict[str, dict[str, Any]]:
        """Every delivery notification-service holds for the incident, by id."""
        found: dict[str, dict[str, Any]] = {}
        offset, limit = 0, 200
        while True:
            try:
                response = await self.client.get(
                    "/api/v1/notifications", params={"incident_id": str(incident_id), "limit": limit, "offset": offset}
                )
            except (RetryableStatus, httpx.HTTPError) as exc:
                raise NotificationUnavailable(f"notification-service unavailable: {type(exc).__name__}") from exc
            if response.status_code != 200:
                raise NotificationUnavailable(f"notification-service answered {response.status_code}")
            body = response.json()
            items = body.get("items") or []
            for item in items:
                found[str(item.get("id"))] = item
            offset += len(items)
            if not items or offset >= int(body.get("total") or 0):
                return found

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
