"""Annotated dependencies the routes take."""

from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.ext.asyncio import AsyncSession

from notification_service.config import Settings
from notification_service.workers.delivery import DeliveryWorker
from platform_common.clock import Clock
from platform_common.db import get_session


def _settings(request: Request) -> Settings:
    return request.app.state.settings


def _clock(request: Request) -> Clock:
    return request.app.state.clock


def _worker(request: Request) -> DeliveryWorker | None:
    return request.app.state.worker


SessionDep = Annotated[AsyncSession, Depends(get_session)]
SettingsDep = Annotated[Settings, Depends(_settings)]
ClockDep = Annotated[Clock, Depends(_clock)]
WorkerDep = Annotated[DeliveryWorker | None, Depends(_worker)]
