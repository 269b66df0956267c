"""One error envelope: domain errors raised anywhere become `{"detail": ...}` here."""

import logging
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
    """400: the request is malformed."""

    status_code = 400


class NotFound(DomainError):
    """404: no such resource."""

    status_code = 404


class Conflict(DomainError):
    """409: the change clashes with the current state."""

    status_code = 409


class Unprocessable(DomainError):
    """422: the request is well-formed but invalid."""

    status_code = 422


class TooManyRequests(DomainError):
    """429: too many requests; retry later."""

    status_code = 429


class Unauthorized(DomainError):
    """401: missing or unknown credentials."""

    status_code = 401


class Forbidden(DomainError):
    """403: the credentials do not allow this."""

    status_code = 403


class DependencyUnavailable(DomainError):
    """503: a dependency this request needs is down."""

    status_code = 503


def install_error_handlers(app: FastAPI) -> None:
    """Answer every error as {"detail": ...} with its status; no stack trace or SQL in a response."""

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
