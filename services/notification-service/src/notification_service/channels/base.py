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
        if not is_public(address):
            return f"target {host} resolves to a non-public address ({address}); refused"
    return None


# IPv6 addresses that carry an IPv4 address in their last 32 bits and reach it:
# NAT64's well-known prefix (RFC 6052) through a NAT64 gateway, and the
# deprecated IPv4-compatible form.
_NAT64 = ipaddress.ip_network("64:ff9b::/96")
_IPV4_COMPATIBLE = ipaddress.ip_network("::/96")
# NAT64 for local use (RFC 8215): never a public receiver, though Python counts it global.
_LOCAL_NAT64 = ipaddress.ip_network("64:ff9b:1::/48")


def is_public(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    """Whether `address` is a public receiver: global, and when it is an IPv6
    form of an IPv4 address (IPv4-mapped, IPv4-compatible, 6to4, NAT64), that
    IPv4 address is global too: 64:ff9b::a9fe:a9fe is 169.254.169.254, the
    cloud metadata service, behind a NAT64 gateway."""
    if not address.is_global:
        return False
    if isinstance(address, ipaddress.IPv4Address):
        return True
    if address in _LOCAL_NAT64:
        return False
    embedded = address.ipv4_mapped or address.sixtofour
    if embedded is None and (address in _NAT64 or address in _IPV4_COMPATIBLE):
        embedded = ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return embedded is None or embedded.is_global


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
