"""oncall-service: who is on call for a service or team, and its escalation chain."""

import logging
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import httpx

from platform_common.http import RetryableStatus, ServiceClient

log = logging.getLogger(__name__)


class OncallUnavailable(Exception):
    """oncall-service could not answer (down, timing out, or a 5xx); worth retrying later."""


@dataclass(frozen=True)
class Person:
    """A user as oncall-service names them."""

    id: str
    name: str
    email: str | None = None
    # Where and what they take pages on, as oncall-service answered; passed on to
    # notification-service with each page (None: oncall-service did not say).
    contact: dict[str, Any] | None = None

    @property
    def label(self) -> str:
        """How the timeline names them: name, else email, else id."""
        return f"{self.name} ({self.id})" if self.name and self.name != self.id else self.id


@dataclass(frozen=True)
class ChainLevel:
    """One level of an escalation chain as oncall-service answers it."""

    level: int
    delay_minutes: float
    users: tuple[Person, ...]


@dataclass(frozen=True)
class OnCall:
    """Who is on call at `at` and the chain to escalate along (empty without a policy)."""

    primary: Person | None
    policy_id: str | None = None
    policy_name: str | None = None
    repeat_count: int = 0
    levels: tuple[ChainLevel, ...] = field(default_factory=tuple)


def contact_of(data: dict[str, Any]) -> dict[str, Any]:
    """The user's contact methods and mutes in the shape notification-service's `contact` takes."""
    return {
        "name": str(data.get("name") or ""),
        "contact_methods": [
            {"type": str(m["type"]), "address": str(m["address"])}
            for m in data.get("contact_methods") or []
            if isinstance(m, dict) and m.get("type") and m.get("address")
        ],
        "muted_channels": [str(c) for c in data.get("muted_channels") or []],
        "muted_severities": [str(s) for s in data.get("muted_severities") or []],
    }


def _person(data: dict[str, Any] | None) -> Person | None:
    if not data or not data.get("id"):
        return None
    return Person(
        id=str(data["id"]),
        name=str(data.get("name") or data["id"]),
        email=data.get("email"),
        contact=contact_of(data) if "contact_methods" in data else None,
    )


def parse_current(body: dict[str, Any]) -> OnCall:
    """Read the agreed `GET /api/v1/oncall/current` answer; unknown fields are ignored."""
    policy = body.get("escalation_policy") or {}
    levels = []
    for position, raw in enumerate(body.get("escalation_chain") or []):
        users = tuple(p for p in (_person(u) for u in raw.get("users") or []) if p is not None)
        levels.append(
            ChainLevel(
                level=int(raw.get("level", position)),
                delay_minutes=float(raw.get("delay_minutes") or 0),
                users=users,
            )
        )
    levels.sort(key=lambda lvl: lvl.level)
    return OnCall(
        primary=_person(body.get("primary")),
        policy_id=str(policy["id"]) if policy.get("id") else None,
        policy_name=policy.get("name"),
        repeat_count=int(policy.get("repeat_count") or 0),
        levels=tuple(levels),
    )


class OncallClient:
    """Calls to oncall-service."""

    def __init__(self, client: ServiceClient) -> None:
        self.client = client

    async def current(self, *, service: str, team: str | None, at: datetime) -> OnCall | None:
        """Who is on call for `service` (falling back to `team`) at `at`; None when
        oncall-service knows neither. Raises OncallUnavailable when it cannot answer."""
        for params in ({"service": service}, {"team": team}):
            if not next(iter(params.values())):
                continue
            try:
                response = await self.client.get("/api/v1/oncall/current", params={**params, "at": at.isoformat()})
            except RetryableStatus as exc:
                raise OncallUnavailable(f"oncall-service unavailable: {exc}") from exc
            except httpx.HTTPError as exc:
                raise OncallUnavailable(f"oncall-service unreachable: {type(exc).__name__}") from exc
            if response.status_code == 404:
                continue
            if response.status_code != 200:
                raise OncallUnavailable(f"oncall-service answered {response.status_code}")
            try:
                return parse_current(response.json())
            except (ValueError, TypeError, KeyError, AttributeError) as exc:
                raise OncallUnavailable(f"oncall-service answered an unreadable body: {exc}") from exc
        return None

    async def contact(self, user_id: str) -> dict[str, Any]:
        """A user's contact methods and mutes (`GET /api/v1/users/{id}`), for a page whose
        recipient was chosen by hand; empty for a user oncall-service does not know
        (notification-service then records that nobody could be paged)."""
        try:
            response = await self.client.get(f"/api/v1/users/{user_id}")
        except RetryableStatus as exc:
            raise OncallUnavailable(f"oncall-service unavailable: {exc}") from exc
        except httpx.HTTPError as exc:
            raise OncallUnavailable(f"oncall-service unreachable: {type(exc).__name__}") from exc
        if response.status_code in (404, 422):
            return contact_of({})
        if response.status_code != 200:
            raise OncallUnavailable(f"oncall-service answered {response.status_code}")
        try:
            return contact_of(response.json())
        except (ValueError, TypeError, KeyError, AttributeError) as exc:
            raise OncallUnavailable(f"oncall-service answered an unreadable body: {exc}") from exc

    async def aclose(self) -> None:
        """Close the HTTP client."""
        await self.client.aclose()
