"""Annotated dependencies the routes share."""

from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, Query, Request
from sqlalchemy import Select
from sqlalchemy.ext.asyncio import AsyncSession

from oncall_service.config import Settings
from oncall_service.db import queries
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

    async def page(self, session: AsyncSession, statement: Select[Any]) -> dict[str, Any]:
        """This page of `statement`'s rows as a listing's body (`Page`, whose items read the rows)."""
        rows, total = await queries.page(session, statement=statement, limit=self.limit, offset=self.offset)
        return {"items": rows, "total": total, "limit": self.limit, "offset": self.offset}


def _pagination(limit: Annotated[int, Query(ge=1, le=200)] = 50, offset: Offset = 0) -> Pagination:
    return Pagination(limit=limit, offset=offset)


PageDep = Annotated[Pagination, Depends(_pagination)]
