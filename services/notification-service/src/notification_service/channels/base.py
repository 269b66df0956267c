"""What every channel takes and returns."""

import asyncio
import ipaddress
import socket
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol
from urllib.parse import urlsplit

import httpx

from notification_service.domain.retry import Outcome, classify_http_status, parse_retry_after

ERROR_MAX = 500


@dataclass(frozen=True)
class AttemptResult:
    """How one delivery attempt went."""

    outcome: Outcome
    error: str | None = None
    response_status: int | None = None
    retry_after: float | None = None


class Channel(Protocol):
    """A way to reach a person: sends one rendered notification to one address."""

    async def send(self, *, target: str, context: dict[str, Any], now: datetime) -> AttemptResult:
        """Deliver once to `target`; classify every failure instead of raising."""


def short(text: str) -> str:
    """Error text fit for history: one line, bounded."""
    flat = " ".join(text.split())
    return flat if len(flat) <= ERROR_MAX else flat[: ERROR_MAX - 1] + "…"


async def non_public_address(url: str) -> str | None:
    """Why `url` must not be called when only public receivers are allowed, or None.

    Webhook addresses come from users' contact methods, so without this a user
    could make the platform POST into its own network (cloud metadata, admin
    ports). A name that re-resolves differently at connect time slips through;
    a network egress policy is the full answer, this is the cheap first one.
    """
    host = urlsplit(url).hostname or ""
    try:
        infos = await asyncio.get_running_loop().getaddrinfo(host, None, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError):
        return None  # unresolvable: the POST itself fails, and that failure is retried
    for info in infos:
        address = ipaddress.ip_address(str(info[4][0]).split("%")[0])
        if not address.is_global:
            return f"target {host} resolves to a non-public address ({address}); refused"
    return None


async def post_json(
    http: httpx.AsyncClient, url: str, body: bytes, headers: dict[str, str], *, public_only: bool = False
) -> AttemptResult:
    """POST a JSON body once and classify the answer (shared by webhook and Slack)."""
    if public_only and (reason := await non_public_address(url)):
        return AttemptResult(Outcome.PERMANENT, reason)
    try:
        response = await http.post(url, content=body, headers={"Content-Type": "application/json", **headers})
    except httpx.TimeoutException as exc:
        return AttemptResult(Outcome.RETRYABLE, short(f"timeout: {type(exc).__name__}"))
    except (httpx.InvalidURL, httpx.UnsupportedProtocol) as exc:
        return AttemptResult(Outcome.PERMANENT, short(f"bad URL: {exc}"))
    except httpx.TransportError as exc:
        return AttemptResult(Outcome.RETRYABLE, short(f"{type(exc).__name__}: {exc}"))
    outcome = classify_http_status(response.status_code)
    error = None
    if outcome is not Outcome.SUCCESS:
        error = short(f"HTTP {response.status_code}: {response.text[:200]}")
    return AttemptResult(
        outcome,
        error,
        response_status=response.status_code,
        retry_after=parse_retry_after(response.headers.get("Retry-After")),
    )
