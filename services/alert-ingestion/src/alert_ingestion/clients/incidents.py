"""Calls to incident-management: create an incident, move its status, report an alert that joined it."""

import logging
import uuid
from datetime import datetime
from typing import Literal

import httpx

from platform_common.http import RetryableStatus, ServiceClient

log = logging.getLogger(__name__)

PatchResult = Literal["done", "retry"]

STATUS_OF_ACTION = {"acknowledge": "acknowledged", "resolve": "resolved"}


class IncidentGateway:
    """Two clients: a short-fused one for creation (a new incident waits on it,
    with a database fallback behind it) and a regular one for status updates."""

    def __init__(self, create_client: ServiceClient, update_client: ServiceClient) -> None:
        self.create_client = create_client
        self.update_client = update_client

    async def create(
        self,
        *,
        incident_id: uuid.UUID,
        title: str,
        service: str,
        severity: str,
        description: str,
        opened_at: datetime,
        integration: dict[str, str] | None,
    ) -> bool:
        """True when incident-management holds the incident (201, or 200 for a
        retried id); False when the caller must fall back."""
        body = {
            "id": str(incident_id),
            "title": title,
            "service": service,
            "severity": severity,
            "description": description,
            "opened_at": opened_at.isoformat(),
            "acting_integration": integration,
        }
        try:
            response = await self.create_client.post("/api/v1/incidents", json=body)
        except (httpx.HTTPError, RetryableStatus) as exc:
            log.warning("incident-management unreachable, falling back", extra={"error": type(exc).__name__})
            return False
        if response.status_code in (200, 201):
            return True
        log.error(
            "incident-management refused an incident, falling back",
            extra={"status": response.status_code, "body": response.text[:300]},
        )
        return False

    async def set_status(
        self, *, incident_id: uuid.UUID, action: str, integration: dict[str, str] | None
    ) -> tuple[PatchResult, str | None]:
        """Acknowledge or resolve, recorded under `integration`. A 409 (already
        moved further, e.g. resolved by a responder) or 404 is final: nothing left to do."""
        body = {"status": STATUS_OF_ACTION[action], "acting_integration": integration}
        try:
            response = await self.update_client.patch(f"/api/v1/incidents/{incident_id}", json=body)
        except (httpx.HTTPError, RetryableStatus) as exc:
            return "retry", f"{type(exc).__name__}: {exc}"[:500]
        if response.status_code == 200:
            return "done", None
        if response.status_code in (404, 409):
            return "done", f"{response.status_code}: {response.text[:300]}"
        return "retry", f"{response.status_code}: {response.text[:300]}"

    async def alert_joined(self, *, incident_id: uuid.UUID, alert_id: uuid.UUID) -> tuple[PatchResult, str | None]:
        """Tell incident-management an alert joined the incident after it was acknowledged
        (its timeline says so, its assignee gets a notice). A repeat is recorded once; a 404
        (no such incident any more) is final."""
        try:
            response = await self.update_client.post(
                f"/api/v1/incidents/{incident_id}/alert-joined", json={"alert_id": str(alert_id)}
            )
        except (httpx.HTTPError, RetryableStatus) as exc:
            return "retry", f"{type(exc).__name__}: {exc}"[:500]
        if response.status_code == 200:
            return "done", None
        if response.status_code == 404:
            return "done", f"404: {response.text[:300]}"
        return "retry", f"{response.status_code}: {response.text[:300]}"

    async def aclose(self) -> None:
        """Close both HTTP clients."""
        await self.create_client.aclose()
        await self.update_client.aclose()
