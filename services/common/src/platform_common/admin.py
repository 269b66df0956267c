"""Operator endpoints: read and change the log level of a running process (admins)."""

from typing import Literal

from fastapi import APIRouter, Depends
from pydantic import BaseModel

from platform_common.auth import ADMIN
from platform_common.logging import current_log_level, set_log_level


class LogLevel(BaseModel):
    """A logging level by name."""

    level: Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"]


router = APIRouter(prefix="/admin", tags=["admin"], dependencies=[Depends(ADMIN)])


@router.get("/log-level", summary="The current log level")
async def read_log_level() -> LogLevel:
    """The current log level of this process."""
    return LogLevel(level=current_log_level())


@router.put("/log-level", summary="Change the log level of this process, effective at once")
async def change_log_level(body: LogLevel) -> LogLevel:
    """Change the log level of this process until it restarts."""
    return LogLevel(level=set_log_level(body.level))
