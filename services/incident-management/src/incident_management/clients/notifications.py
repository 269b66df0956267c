"""notification-service: hand pages over, many in one request (its deliveries' final results come back to
`POST /api/v1/incidents/{id}/deliveries`)."""

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import httpx

from platform_common.http import RetryableStatus, ServiceClient

FINAL_STATUSES = frozenset({"delivered", "failed", "suppressed"})
# Items notification-service takes in one `POST /api/v1/notify/batch` (its MAX_NOTIFY_BATCH).
BATCH_LIMIT = 200


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

    async def notify_many(self, pages: Sequence[PageRequest]) -> list[list[dict[str, Any]] | Exception]:
        """`_notify_batch` for any number of pages, BATCH_LIMIT to a request."""
        results: list[list[dict[str, Any]] | Exception] = []
        for start in range(0, len(pages), BATCH_LIMIT):
            results += await self._notify_batch(pages[start : start + BATCH_LIMIT])
        return results

    async def _notify_batch(self, pages: Sequence[PageRequest]) -> list[list[dict[str, Any]] | Exception]:
        """POST /api/v1/notify/batch: hand these pages over in one request. For each page
        (in order) the deliveries it created (or, for a repeated key, created before), or
        why not: NotificationRejected (refused for good) or NotificationUnavailable (ask
        again later). Raises NotificationUnavailable when the batch as a whole was not
        taken (each page keeps its idempotency key, so sending them all again is harmless)."""
        try:
            response = await self.client.post("/api/v1/notify/batch", json={"items": [_body(p) for p in pages]})
        except RetryableStatus as exc:
            raise NotificationUnavailable(f"notification-service unavailable: {exc}") from exc
        except httpx.HTTPError as exc:
            raise NotificationUnavailable(f"notification-service unreachable: {type(exc).__name__}") from exc
        if response.status_code == 429 or response.status_code >= 500:
            raise NotificationUnavailable(f"notification-service answered {response.status_code}")
        if response.status_code != 200:
            refused = NotificationRejected(
                f"notification-service refused the batch: {response.status_code} {response.text[:300]}"
            )
            return [refused for _ in pages]
        try:
            results = response.json()["results"]
            if not isinstance(results, list) or len(results) != len(pages):
                raise ValueError("one result per page")
        except (ValueError, KeyError, TypeError) as exc:
            # Taken, but the answer is unreadable: which pages were stored is unknown, so all
            # are sent again later; their keys make the ones already stored a replay.
            raise NotificationUnavailable(f"notification-service's answer unreadable: {exc}") from exc
        return [_outcome(result) for result in results]

    async def aclose(self) -> None:
        """Close the HTTP client."""
        await self.client.aclose()


def _body(page: PageRequest) -> dict[str, Any]:
    return {
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


def _outcome(result: Any) -> list[dict[str, Any]] | Exception:
    """One item's answer: its deliveries when stored (202) or stored before (200)."""
    status = result.get("status_code") if isinstance(result, dict) else None
    if status in (200, 202):
        items = (result.get("accepted") or {}).get("notifications") or []
        return [_delivery(item) for item in items if isinstance(item, dict)]
    detail = result.get("detail") if isinstance(result, dict) else None
    if status != 422:  # 409: its key is being stored by a racing request; ask again later
        return NotificationUnavailable(f"notification-service answered {status} for the page: {str(detail)[:300]}")
    return NotificationRejected(f"notification-service refused the page: {status} {str(detail)[:300]}")


def _delivery(item: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": str(item.get("id")),
        "channel": item.get("channel"),
        "target": item.get("target"),
        "status": item.get("status"),
        "error": item.get("last_error") or item.get("reason"),
    }
