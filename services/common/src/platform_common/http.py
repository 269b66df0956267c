"""Calls to other services: a timeout on every call, the caller's X-Request-ID
forwarded, and no retry by default.

Work kept in the database is retried by its queue (`platform_common.retry`,
`platform_common.worker`), one layer: a call made from a worker fails at once
and the row waits for its next try, instead of retrying inside every try (up
to 80 calls for one owed action when each of 20 tries retried 3 times). Only a
caller with no later try asks for `retries` (alert-ingestion's first send of a
new incident, which falls back to opening it itself), with the same backoff."""

import logging
from collections.abc import Mapping
from typing import Any

import httpx
from tenacity import AsyncRetrying, RetryCallState, retry_if_exception, stop_after_attempt

from platform_common.logging import request_id_var
from platform_common.request_id import HEADER, new_request_id
from platform_common.retry import backoff_seconds

log = logging.getLogger(__name__)

RETRYABLE_STATUS = frozenset({502, 503, 504})


class RetryableStatus(Exception):
    """A 502, 503 or 504 answer, raised so the retry policy retries it."""

    def __init__(self, response: httpx.Response) -> None:
        super().__init__(f"{response.request.method} {response.request.url.path} answered {response.status_code}")
        self.response = response


def _is_retryable(exc: BaseException) -> bool:
    return isinstance(exc, httpx.TransportError | RetryableStatus)


class ServiceClient:
    """A client for one other service. With `retries`, retries only what is safe
    to retry: connection failures, timeouts and 502/503/504. Callers make POSTs
    idempotent (idempotency keys, unique steps) so a retried write is harmless."""

    def __init__(
        self,
        base_url: str,
        *,
        timeout: float = 5.0,
        retries: int = 0,
        backoff_initial: float = 0.2,
        backoff_max: float = 2.0,
        transport: httpx.AsyncBaseTransport | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.retries = retries
        self.backoff_initial = backoff_initial
        self.backoff_max = backoff_max
        # `headers` go on every request: the platform's internal credential (auth.internal_headers).
        self.http = httpx.AsyncClient(base_url=self.base_url, timeout=timeout, transport=transport, headers=headers)

    async def request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        """Send with retries; raises httpx.HTTPError (or RetryableStatus) once they run out."""
        headers = dict(kwargs.pop("headers", None) or {})
        headers.setdefault(HEADER, request_id_var.get() or new_request_id())
        retrying = AsyncRetrying(
            stop=stop_after_attempt(self.retries + 1),
            wait=self._backoff,
            retry=retry_if_exception(_is_retryable),
            reraise=True,
        )
        async for attempt in retrying:
            with attempt:
                response = await self.http.request(method, path, headers=headers, **kwargs)
                if response.status_code in RETRYABLE_STATUS:
                    raise RetryableStatus(response)
                return response
        raise AssertionError("unreachable: tenacity reraises")  # pragma: no cover

    def _backoff(self, state: RetryCallState) -> float:
        return backoff_seconds(state.attempt_number, base=self.backoff_initial, cap=self.backoff_max)

    async def get(self, path: str, **kwargs: Any) -> httpx.Response:
        """GET `path`, retried as configured."""
        return await self.request("GET", path, **kwargs)

    async def post(self, path: str, **kwargs: Any) -> httpx.Response:
        """POST to `path`, retried as configured."""
        return await self.request("POST", path, **kwargs)

    async def patch(self, path: str, **kwargs: Any) -> httpx.Response:
        """PATCH `path`, retried as configured."""
        return await self.request("PATCH", path, **kwargs)

    async def aclose(self) -> None:
        """Close the underlying connection pool."""
        await self.http.aclose()
