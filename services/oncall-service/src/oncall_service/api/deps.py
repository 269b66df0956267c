"""Annotated dependencies the routes share."""

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Query, Request
from sqlalchemy.ext.asyncio import AsyncSession

from oncall_service.config import Settings
from platform_common.clock import Clock
from platform_common.db import get_session
from platform_common.validation import Offset

SessionDep = Annotated[AsyncSession, Depends(get_session)]


def _settings(request: Request) -> Settings:
    return request.app.state.settings


SettingsDep = Annotated[Settings, Depends(_settings)]


def _clock(request: Request) -> Clock:
    return request.app.state.clock


ClockDep = Annotated[Clock, Depends(_clock)]


@dataclass(frozen=True)
class Pagination:
    """limit and offset of a listing."""

    limit: int
    offset: int


def _pagination(limit: Annotated[int, Query(ge=1, le=200)] = 50, offset: Offset = 0) -> Pagination:
    return Pagination(limit=limit, offset=offset)


PageDep = Annotated[Pagination, Depends(_pagination)]
