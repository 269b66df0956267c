"""Calls to incident-management: create an incident, move its status, report an alert that joined it."""

import json
import logging
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

import httpx

from platform_common.http import RetryableStatus, ServiceClient

log = logging.getLogger(__name__)

PatchResult = Literal["done", "retry"]

STATUS_OF_ACTION = {"acknowledge": "acknowledged", "resolve": "resolved"}

# Creates in one request: incident-management's MAX_CREATE_BATCH, and a body well
# under its MAX_BODY_BYTES (1 MiB by default; a long alert message is a long description).
CREATE_BATCH = 100
CREATE_BATCH_BYTES = 512 * 1024


@dataclass(frozen=True)
class NewIncident:
    """An incident the rule reserved, as incident-management is asked to open it."""

    incident_id: uuid.UUID
    title: str
    service: str
    severity: str
    description: str
    opened_at: datetime
    integration: dict[str, str] | None


class IncidentGateway:
    """Two clients: a short-fused one for creation (new incidents wait on it,
    with a database fallback behind it) and a regular one for status updates."""

    def __init__(self, create_client: ServiceClient, update_client: ServiceClient) -> None:
        self.create_client = create_client
        self.update_client = update_client

    async def create_many(self, incidents: Sequence[NewIncident]) -> list[str | None]:
        """Open these incidents through `POST /api/v1/incidents/batch`, as few requests as
        their size allows. For each (in order): None when incident-management holds it (201,
        or 200 for a retried id), else why not; the caller then opens it by the fallback."""
        answers: list[str | None] = []
        for chunk in _chunks([_create_body(incident) for incident in incidents]):
            answers += await self._create_batch(chunk)
        return answers

    async def _create_batch(self, bodies: list[bytes]) -> list[str | None]:
        content = b'{"items":[' + b",".join(bodies) + b"]}"
        try:
            response = await self.create_client.post(
                "/api/v1/incidents/batch", content=content, headers={"Content-Type": "application/json"}
            )
        except (httpx.HTTPError, RetryableStatus) as exc:
            log.warning("incident-management unreachable, falling back", extra={"error": type(exc).__name__})
            return [f"incident-management unreachable: {type(exc).__name__}"] * len(bodies)
        try:
            if response.status_code != 200:
                raise ValueError(f"{response.status_code}: {response.text[:300]}")
            results = response.json()["results"]
            if not isinstance(results, list) or len(results) != len(bodies):
                raise ValueError("not one result per incident")
            return [None if result["status_code"] in (200, 201) else _refusal(result) for result in results]
        except (ValueError, KeyError, TypeError) as exc:
            # Which of them it took is unknown: the fallback opens the others, and finds
            # the ones it took already open (open_incident() is idempotent on the id).
            log.error("incident-management refused the incidents, falling back", extra={"error": str(exc)})
            return [f"incident-management refused the batch: {exc}"[:500]] * len(bodies)

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


def _create_body(incident: NewIncident) -> bytes:
    return json.dumps(
        {
            "id": str(incident.incident_id),
            "title": incident.title,
            "service": incident.service,
            "severity": incident.severity,
            "description": incident.description,
            "opened_at": incident.opened_at.isoformat(),
            "acting_integration": incident.integration,
        }
    ).encode()


def _chunks(bodies: list[bytes]) -> Iterator[list[bytes]]:
    """The bodies in order, CREATE_BATCH at most to a request and CREATE_BATCH_BYTES (a
    body bigger than that alone goes alone: incident-management refuses it, the fallback opens it)."""
    chunk: list[bytes] = []
    size = 0
    for body in bodies:
        if chunk and (len(chunk) == CREATE_BATCH or size + len(body) > CREATE_BATCH_BYTES):
            yield chunk
            chunk, size = [], 0
        chunk.append(body)
        size += len(body) + 1
    if chunk:
        yield chunk


def _refusal(result: dict[str, Any]) -> str:
    return f"incident-management refused it: {result['status_code']} {result.get('detail')}"[:500]
