"""One error envelope: domain errors raised anywhere become `{"detail": ...}` here,
and the OpenAPI document says so (`error_responses`, `ErrorEnvelope`)."""

import logging
import math
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError

from platform_common.logging import request_id_var

log = logging.getLogger(__name__)


class DomainError(Exception):
    """Base of the errors a user can cause; `extra` fields join `detail` in the body,
    `headers` go on the response (e.g. Retry-After on a 429)."""

    status_code = 400

    def __init__(self, detail: Any, *, headers: dict[str, str] | None = None, **extra: Any) -> None:
        super().__init__(detail)
        self.detail = detail
        self.headers = headers
        self.extra = extra


class BadRequest(DomainError):
    status_code = 400


class NotFound(DomainError):
    status_code = 404


class Conflict(DomainError):
    status_code = 409


class Unprocessable(DomainError):
    status_code = 422


class TooManyRequests(DomainError):
    """A 429 always says when to come back: `retry_after` seconds (rounded up,
    at least 1) go out as the `Retry-After` header and as `retry_after_seconds`
    in the body, so every sender, header-reading or not, can back off."""

    status_code = 429

    def __init__(self, detail: Any, *, retry_after: float, **extra: Any) -> None:
        seconds = max(1, math.ceil(retry_after))
        super().__init__(detail, headers={"Retry-After": str(seconds)}, retry_after_seconds=seconds, **extra)


class Unauthorized(DomainError):
    status_code = 401


class Forbidden(DomainError):
    status_code = 403


class DependencyUnavailable(DomainError):
    status_code = 503


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(DomainError)
    async def _domain_error(_request: Request, exc: DomainError) -> JSONResponse:
        return JSONResponse({"detail": exc.detail, **exc.extra}, status_code=exc.status_code, headers=exc.headers)

    @app.exception_handler(IntegrityError)
    async def _integrity_error(_request: Request, exc: IntegrityError) -> JSONResponse:
        # A constraint the request's own checks missed: the client's data clashes
        # with what is stored. The SQL stays in the log, never in the body.
        log.warning("integrity error", extra={"error": str(exc.orig)})
        return JSONResponse({"detail": "The request conflicts with stored data"}, status_code=409)

    async def _unavailable(_request: Request, exc: Exception) -> JSONResponse:
        # asyncpg raises plain OSError subclasses when PostgreSQL cannot be reached.
        log.error("dependency unavailable", extra={"error": type(exc).__name__})
        return JSONResponse(
            {"detail": "A dependency (the database) is unavailable, try again", "request_id": request_id_var.get()},
            status_code=503,
            headers={"Retry-After": "5"},
        )

    for error in (OperationalError, PoolTimeoutError, ConnectionError, TimeoutError):
        app.add_exception_handler(error, _unavailable)

    @app.exception_handler(Exception)
    async def _unexpected(_request: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error")
        return JSONResponse({"detail": "Internal server error", "request_id": request_id_var.get()}, status_code=500)
