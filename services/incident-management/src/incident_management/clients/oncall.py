"""oncall-service: who is on call for a service or team, and its escalation chain (read into
`domain.escalation.OnCall`)."""

from collections.abc import Callable
from datetime import datetime
from typing import Any, TypeVar

import httpx

from incident_management.domain.escalation import ChainLevel, OnCall, Person
from incident_management.domain.rules import DEFAULT_HIGH_URGENCY, RuleStep
from platform_common.http import RetryableStatus, ServiceClient

T = TypeVar("T")


class OncallUnavailable(Exception):
    """oncall-service could not answer (down, timing out, or a 5xx); worth retrying later."""


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


def rules_of(data: dict[str, Any]) -> tuple[RuleStep, ...]:
    """The user's notification rules, each step with the contact method it names
    (a step naming a method not in the answer is left out)."""
    methods = {
        str(m.get("id")): {"type": str(m["type"]), "address": str(m["address"])}
        for m in data.get("contact_methods") or []
        if isinstance(m, dict) and m.get("type") and m.get("address")
    }
    raw = sorted(
        (r for r in data.get("notification_rules") or [] if isinstance(r, dict)),
        key=lambda r: (str(r.get("urgency")), int(r.get("position") or 0)),
    )
    return tuple(
        RuleStep(str(r["urgency"]), float(r.get("delay_minutes") or 0), methods[str(r.get("contact_method_id"))])
        for r in raw
        if str(r.get("contact_method_id")) in methods and r.get("urgency") in ("high", "low")
    )


def steps_of(body: dict[str, Any]) -> tuple[RuleStep, ...]:
    """`GET /api/v1/users/{id}/notification-rules` read as the steps `rules_of` reads from
    the on-call answer (each with its contact method), so one expansion serves both."""
    return tuple(
        RuleStep(
            urgency,
            float(step.get("delay_minutes") or 0),
            {"type": str(method["type"]), "address": str(method["address"])},
        )
        for urgency in ("high", "low")
        for step in body.get(urgency) or []
        if isinstance(step, dict)
        and isinstance(method := step.get("contact_method"), dict)
        and method.get("type")
        and method.get("address")
    )


def _person(data: dict[str, Any] | None) -> Person | None:
    if not data or not data.get("id"):
        return None
    return Person(
        id=str(data["id"]),
        name=str(data.get("name") or data["id"]),
        email=data.get("email"),
        contact=contact_of(data) if "contact_methods" in data else None,
        rules=rules_of(data),
    )


def parse_current(body: dict[str, Any]) -> OnCall:
    """Read the agreed `GET /api/v1/oncall/current` answer; unknown fields are ignored."""
    policy = body.get("escalation_policy") or {}
    service = body.get("service") or {}
    high = service.get("high_urgency_severities")
    levels = []
    for position, raw in enumerate(body.get("escalation_chain") or []):
        users = tuple(p for p in (_person(u) for u in raw.get("users") or []) if p is not None)
        levels.append(
            ChainLevel(
                level=int(raw.get("level", position)),
                delay_minutes=float(raw.get("delay_minutes") or 0),
                users=users,
                target_names=tuple(
                    str(t.get("name")) for t in raw.get("targets") or [] if isinstance(t, dict) and t.get("name")
                ),
            )
        )
    levels.sort(key=lambda lvl: lvl.level)
    return OnCall(
        primary=_person(body.get("primary")),
        policy_id=str(policy["id"]) if policy.get("id") else None,
        policy_name=policy.get("name"),
        repeat_count=int(policy.get("repeat_count") or 0),
        levels=tuple(levels),
        high_urgency_severities=tuple(str(s) for s in high) if isinstance(high, list) else DEFAULT_HIGH_URGENCY,
        acknowledgement_timeout_minutes=int(body["acknowledgement_timeout_minutes"])
        if body.get("acknowledgement_timeout_minutes")
        else None,
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
            response = await self._get("/api/v1/oncall/current", params={**params, "at": at.isoformat()})
            if response.status_code != 404:
                return _read(response, parse_current)
        return None

    async def contact(self, user_id: str) -> dict[str, Any]:
        """A user's contact methods and mutes (`GET /api/v1/users/{id}`), for a page whose
        recipient was chosen by hand; empty for a user oncall-service does not know
        (notification-service then records that nobody could be paged)."""
        response = await self._get(f"/api/v1/users/{user_id}")
        if response.status_code in (404, 422):
            return contact_of({})
        return _read(response, contact_of)

    async def rules(self, user_id: str) -> tuple[RuleStep, ...]:
        """A user's notification rules (`GET /api/v1/users/{id}/notification-rules`), for a
        page whose recipient was chosen by hand; none for a user oncall-service does not know."""
        response = await self._get(f"/api/v1/users/{user_id}/notification-rules")
        if response.status_code in (404, 422):
            return ()
        return _read(response, steps_of)

    async def high_urgency(self, *, service: str, team: str | None, at: datetime) -> tuple[str, ...]:
        """The severities `service` (falling back to `team`) deems high urgency; the
        default when oncall-service knows neither."""
        oncall = await self.current(service=service, team=team, at=at)
        return oncall.high_urgency_severities if oncall is not None else DEFAULT_HIGH_URGENCY

    async def _get(self, path: str, **kwargs: Any) -> httpx.Response:
        try:
            return await self.client.get(path, **kwargs)
        except RetryableStatus as exc:
            raise OncallUnavailable(f"oncall-service unavailable: {exc}") from exc
        except httpx.HTTPError as exc:
            raise OncallUnavailable(f"oncall-service unreachable: {type(exc).__name__}") from exc

    async def aclose(self) -> None:
        """Close the HTTP client."""
        await self.client.aclose()


def _read(response: httpx.Response, parse: Callable[[Any], T]) -> T:
    """A 200's body as `parse` reads it; OncallUnavailable for any other answer or an unreadable body."""
    if response.status_code != 200:
        raise OncallUnavailable(f"oncall-service answered {response.status_code}")
    try:
        return parse(response.json())
    except (ValueError, TypeError, KeyError, AttributeError) as exc:
        raise OncallUnavailable(f"oncall-service answered an unreadable body: {exc}") from exc
