"""On-call: users, teams, rotation schedules, overrides, escalation policies, and who is on call now."""

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from sqlalchemy import create_engine
from sqlalchemy.exc import SQLAlchemyError

from oncall_service.api.routes import ROUTERS
from oncall_service.api.routes.auth import ClientThrottle
from oncall_service.clients.notifications import NotificationClient
from oncall_service.config import Settings, get_settings
from oncall_service.metrics import CoverageCollector
from oncall_service.usecases import accounts
from oncall_service.workers.notices import NoticeLoop
from platform_common.app import create_service_app
from platform_common.auth import internal_headers
from platform_common.clock import Clock, SystemClock
from platform_common.db import database_urls
from platform_common.http import ServiceClient

log = logging.getLogger(__name__)


def create_app(settings: Settings | None = None, *, clock: Clock | None = None) -> FastAPI:
    """The oncall-service app; `clock` is replaced in tests."""
    settings = settings or get_settings()
    # "Now" for requests that do not name a moment; tests pass a ManualClock.
    clock = clock or SystemClock()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if settings.admin_email and settings.admin_password:
            await _ensure_admin(app, settings.admin_email, settings.admin_password.get_secret_value())
        # A small synchronous pool for the Prometheus collector, which runs outside the event loop.
        metrics_engine = create_engine(database_urls(settings)[1], pool_size=1, max_overflow=1, pool_pre_ping=True)
        coverage = CoverageCollector(metrics_engine, clock)
        app.state.metrics_registry.register(coverage)
        # Test pages and shift notices: notification-service delivers them.
        client = ServiceClient(
            settings.notification_service_url,
            headers=internal_headers(settings.internal_tokens),
            timeout=settings.http_timeout_seconds,
        )
        app.state.notices = NotificationClient(client)
        loop = NoticeLoop(db=app.state.db, clock=clock, settings=settings, client=app.state.notices)
        if settings.oncall_notice_enabled:
            loop.worker.start()
        try:
            yield
        finally:
            if settings.oncall_notice_enabled:
                await loop.worker.stop()
            await app.state.notices.aclose()
            app.state.metrics_registry.unregister(coverage)
            metrics_engine.dispose()

    app = create_service_app(
        settings,
        title="On-call",
        description="Users, teams, rotation schedules, overrides, escalation policies, and who is on call now.",
        routers=ROUTERS,
        lifespan=lifespan,
        dependencies={},
    )
    app.state.clock = clock
    app.state.login_throttle = ClientThrottle(settings.login_failures_per_client)
    return app


async def _ensure_admin(app: FastAPI, email: str, password: str) -> None:
    """The first admin (ADMIN_EMAIL / ADMIN_PASSWORD). A database still down is
    no reason not to start: readiness says so, and the next start creates it."""
    try:
        async with app.state.db.sessionmaker() as session, session.begin():
            if await accounts.ensure_admin(session, email=email, password=password):
                log.info("created the first admin", extra={"email": email})
    except (OSError, SQLAlchemyError) as exc:
        log.error("could not create the first admin: %s", exc)
