"""One error envelope: domain errors raised anywhere become `{"detail": ...}` here,
and the OpenAPI document says so (`error_responses`, `ErrorEnvelope`)."""

import logging
import math
from typing import Any

from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError
from starlette.requests import ClientDisconnect

from platform_common.logging import request_id_var
from platform_common.request_id import HEADER, SCOPE_KEY

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
    """A 429 always says when to come back: `retry_after` seconds (rounded up,
    at least 1) go out as the `Retry-After` header and as `retry_after_seconds`
    in the body, so every sender, header-reading or not, can back off."""

    status_code = 429

    def __init__(self, detail: Any, *, retry_after: float, **extra: Any) -> None:
        seconds = max(1, math.ceil(retry_after))
        super().__init__(detail, headers={"Retry-After": str(seconds)}, retry_after_seconds=seconds, **extra)


class Unauthorized(DomainError):
    """401: missing or unknown credentials."""

    status_code = 401


class Forbidden(DomainError):
    """403: the credentials do not allow this."""

    status_code = 403


class DependencyUnavailable(DomainError):
    """503: what is needed is down for now. Like a 429, it says when to try again
    (`Retry-After`, default 5 s, as the database-down answer below)."""

    status_code = 503

    def __init__(self, detail: Any, *, retry_after: float = 5, **extra: Any) -> None:
        super().__init__(detail, headers={"Retry-After": str(max(1, math.ceil(retry_after)))}, **extra)


class FieldError(BaseModel):
    """One invalid input, as FastAPI reports it: where (`loc`), what (`msg`), which rule (`type`)."""

    model_config = ConfigDict(extra="allow")

    loc: list[str | int]
    msg: str
    type: str


class ErrorEnvelope(BaseModel):
    """The body of every error answer. `detail` is a sentence, or one item per
    invalid field (422); some errors add fields beside it (`current_status` on a
    409, `retry_after_seconds` on a 429, `request_id` on a 5xx)."""

    model_config = ConfigDict(extra="allow", title="Error")

    detail: str | list[FieldError]


# What each status means to a caller, said once for every route that can answer it.
_MEANING: dict[int, str] = {
    400: "Malformed request: the body is empty or not JSON",
    401: "Missing or unknown credentials",
    403: "Not allowed",
    404: "Not found",
    409: "Conflicts with the current state or with stored data",
    413: "Request body over MAX_BODY_BYTES",
    422: "Invalid input: `detail` names each field and what is wrong with it",
    429: "Too many requests: retry after `Retry-After` seconds",
    503: "A dependency (the database) is unavailable: retry after `Retry-After` seconds",
}
_RETRY_AFTER = {"Retry-After": {"description": "seconds to wait before retrying", "schema": {"type": "integer"}}}

ErrorKind = type[DomainError] | int


def error_responses(*kinds: ErrorKind, **descriptions: str) -> dict[int | str, dict[str, Any]]:
    """`responses=` for a route: each domain error (or status) it can answer,
    with the envelope's schema. `descriptions` (`s409="..."`) say what a status
    means on this route when the general meaning is not enough."""
    responses: dict[int | str, dict[str, Any]] = {}
    for kind in kinds:
        status = kind if isinstance(kind, int) else kind.status_code
        entry: dict[str, Any] = {
            "model": ErrorEnvelope,
            "description": descriptions.get(f"s{status}", _MEANING.get(status, "Error")),
        }
        if status in (429, 503):
            entry["headers"] = _RETRY_AFTER
        responses[status] = entry
    return responses


def _database_down(exc: DBAPIError) -> bool:
    """Whether PostgreSQL could not be reached or is not taking connections now: SQLSTATE
    class 08 (connection exception) or 57P (shutting down, starting up), or a dropped connection."""
    sqlstate = getattr(exc.orig, "sqlstate", None) or ""
    return exc.connection_invalidated or sqlstate.startswith(("08", "57P"))


def install_error_handlers(app: FastAPI) -> None:
    """Answer every error as {"detail": ...} with its status; no stack trace or SQL in a response."""

    @app.exception_handler(DomainError)
    async def _domain_error(_request: Request, exc: DomainError) -> JSONResponse:
        return JSONResponse({"detail": exc.detail, **exc.extra}, status_code=exc.status_code, headers=exc.headers)

    @app.exception_handler(RequestValidationError)
    async def _invalid(_request: Request, exc: RequestValidationError) -> JSONResponse:
        # FastAPI's own answer echoes each invalid input back: a password, or a
        # string no UTF-8 encoder can write (a 500 while rendering the 422).
        # Where and what is wrong is enough.
        errors = [{key: value for key, value in error.items() if key != "input"} for error in exc.errors()]
        return JSONResponse({"detail": jsonable_encoder(errors)}, status_code=422)

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

    @app.exception_handler(ClientDisconnect)
    async def _gone(_request: Request, _exc: ClientDisconnect) -> JSONResponse:
        # The sender hung up before its body was read (its own timeout, under load): nobody
        # reads this answer, and it is not the server's fault, so no 5xx to page about.
        log.info("client disconnected before its request was read")
        return JSONResponse({"detail": "The client disconnected before its request was read"}, status_code=400)

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        # Starlette answers this outside every middleware, the request id's
        # included: the id comes from the scope, and goes on the answer here.
        request_id = request.scope.get(SCOPE_KEY)
        token = request_id_var.set(request_id)
        try:
            log.exception("unhandled error")
        finally:
            request_id_var.reset(token)
        return JSONResponse(
            {"detail": "Internal server error", "request_id": request_id},
            status_code=500,
            headers={HEADER: request_id} if request_id else None,
        )

    @app.exception_handler(DBAPIError)
    async def _database_error(request: Request, exc: DBAPIError) -> JSONResponse:
        # A PostgreSQL starting up or shutting down refuses connections with an error SQLAlchemy
        # does not call operational (asyncpg's CannotConnectNowError comes as a plain DBAPIError):
        # it is down for now, a 503 with Retry-After, not a 500. Any other database error is a bug.
        if _database_down(exc):
            return await _unavailable(request, exc)
        return await _unexpected(request, exc)
