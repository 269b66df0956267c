"""Annotated dependencies of the routes."""

from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.ext.asyncio import AsyncSession

from incident_management.api.schemas import ActingIntegration
from incident_management.config import Settings
from incident_management.domain.timeline import Actor
from incident_management.workers.engine import IncidentEngine
from platform_common.auth import Principal
from platform_common.clock import Clock
from platform_common.db import get_session
from platform_common.errors import Forbidden


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


def refuse_platform_fields(principal: Principal, **fields: object) -> None:
    """403 when a user sends what only the platform's own calls may (a field
    given, not None): it is well-formed, but their credential does not allow it."""
    given = [name for name, value in fields.items() if value is not None]
    if given and not principal.is_platform:
        raise Forbidden(f"Only the platform's own calls set {' and '.join(given)}; leave them out")


def actor_of(principal: Principal, integration: ActingIntegration | None = None) -> Actor:
    """Who a change is recorded under: the signed-in user; for the platform's own
    calls, the integration it acts for (alert-ingestion passes it) or the platform."""
    if integration is not None:
        if not principal.is_platform:
            raise Forbidden("Only the platform acts on behalf of an integration")
        return Actor(f"integration {integration.name}", integration.id)
    return Actor(principal.name, principal.user_id)
