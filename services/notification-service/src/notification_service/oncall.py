"""Users' contact methods and mutes, read from oncall-service (`GET /api/v1/users/{id}`)."""

import logging
from typing import Any

import httpx

from notification_service.domain.recipients import ContactMethod, UserProfile
from platform_common.errors import DependencyUnavailable
from platform_common.http import RetryableStatus, ServiceClient

log = logging.getLogger(__name__)


class OncallDirectory:
    def __init__(self, client: ServiceClient) -> None:
        self.client = client

    async def get_user(self, user_id: str) -> UserProfile | None:
        """The user's profile, None if oncall-service does not know them.

        Raises DependencyUnavailable (503) when oncall-service cannot answer:
        the caller keeps its page and retries, rather than us guessing where to send it.
        """
        try:
            response = await self.client.get(f"/api/v1/users/{user_id}")
        except (httpx.HTTPError, RetryableStatus) as exc:
            # Retries (with backoff) already ran out inside the client.
            log.warning("oncall-service unavailable", extra={"user_id": user_id, "error": str(exc)})
            raise DependencyUnavailable(
                "oncall-service is unavailable; retry later", dependency="oncall-service"
            ) from exc
        if response.status_code == 404:
            return None
        if response.status_code != 200:
            log.warning("oncall-service answered %s", response.status_code, extra={"user_id": user_id})
            raise DependencyUnavailable(
                f"oncall-service answered {response.status_code} for the user", dependency="oncall-service"
            )
        try:
            return parse_user(response.json())
        except (ValueError, KeyError, TypeError) as exc:
            raise DependencyUnavailable("oncall-service sent a user this service cannot read") from exc


def parse_user(body: dict[str, Any]) -> UserProfile:
    """The agreed user shape; unknown extra fields are ignored."""
    methods = tuple(
        ContactMethod(type=str(method["type"]), address=str(method["address"]))
        for method in body.get("contact_methods") or []
        if method.get("address")
    )
    return UserProfile(
        id=str(body["id"]),
        name=str(body.get("name") or ""),
        contact_methods=methods,
        muted_channels=frozenset(body.get("muted_channels") or ()),
        muted_severities=frozenset(body.get("muted_severities") or ()),
    )
