"""Operator endpoints: read and change the log level of a running process."""

import secrets
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Header, Request
from pydantic import BaseModel

from platform_common.errors import Forbidden, Unauthorized, error_responses
from platform_common.logging import current_log_level, set_log_level


class LogLevel(BaseModel):
    """A logging level by name."""

    level: Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"]


def require_admin(request: Request, authorization: Annotated[str | None, Header()] = None) -> None:
    """Bearer ADMIN_TOKEN when one is configured; open only in local and test runs."""
    settings = request.app.state.settings
    token = settings.admin_token
    if token is None:
        if settings.environment in ("local", "test"):
            return
        raise Forbidden("Admin endpoints are disabled: set ADMIN_TOKEN")
    scheme, _, given = (authorization or "").partition(" ")
    if scheme.lower() != "bearer" or not secrets.compare_digest(given.encode(), token.get_secret_value().encode()):
        raise Unauthorized("A valid admin bearer token is required")


router = APIRouter(
    prefix="/admin",
    tags=["admin"],
    dependencies=[Depends(require_admin)],
    responses=error_responses(Unauthorized, Forbidden),
)


@router.get("/log-level", summary="The current log level")
async def read_log_level() -> LogLevel:
    """The current log level of this process."""
    return LogLevel(level=current_log_level())


@router.put("/log-level", summary="Change the log level of this process, effective at once")
async def change_log_level(body: LogLevel) -> LogLevel:
    """Change the log level of this process until it restarts."""
    return LogLevel(level=set_log_level(body.level))
