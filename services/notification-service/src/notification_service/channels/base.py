"""What every channel takes and returns."""

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

import httpx

from notification_service.domain.retry import Outcome, classify_http_status, parse_retry_after

ERROR_MAX = 500


@dataclass(frozen=True)
class AttemptResult:
    outcome: Outcome
    error: str | None = None
    response_status: int | None = None
    retry_after: float | None = None


class Channel(Protocol):
    async def send(self, *, target: str, context: dict[str, Any], now: datetime) -> AttemptResult:
        """Deliver once to `target`; classify every failure instead of raising."""


def short(text: str) -> str:
    """Error text fit for history: one line, bounded."""
    flat = " ".join(text.split())
    return flat if len(flat) <= ERROR_MAX else flat[: ERROR_MAX - 1] + "…"


async def post_json(http: httpx.AsyncClient, url: str, body: bytes, headers: dict[str, str]) -> AttemptResult:
    """POST a JSON body once and classify the answer (shared by webhook and Slack)."""
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
