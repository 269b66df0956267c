"""Annotated dependencies of the routes."""

from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.ext.asyncio import AsyncSession

from incident_management.config import Settings
from incident_management.workers.engine import IncidentEngine
from platform_common.clock import Clock
from platform_common.db import get_session


def _settings(request: Request) -> Settings:
    return request.app.state.settings


def _clock(request: Request) -> Clock:
    return request.app.state.clock


def _engine(request: Request) -> IncidentEngine:
    return request.app.state.engine


SessionDep = Annotated[AsyncSession, Depends(get_session)]
SettingsDep = Annotated[Settings, Depends(_settings)]
ClockDep = Annotated[Clock, Depends(_clock)]
EngineDep = Annotated[IncidentEngine, Depends(_engine)]
