"""On-call: users, teams, rotation schedules, overrides, escalation policies, and who is on call now."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from sqlalchemy import create_engine

from oncall_service.api.routes import ROUTERS
from oncall_service.config import Settings, get_settings
from oncall_service.metrics import CoverageCollector
from platform_common.app import create_service_app
from platform_common.clock import Clock, SystemClock
from platform_common.db import database_urls


def create_app(settings: Settings | None = None, *, clock: Clock | None = None) -> FastAPI:
    """The oncall-service app; `clock` is replaced in tests."""
    settings = settings or get_settings()
    # "Now" for requests that do not name a moment; tests pass a ManualClock.
    clock = clock or SystemClock()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        # A small synchronous pool for the Prometheus collector, which runs outside the event loop.
        metrics_engine = create_engine(database_urls(settings)[1], pool_size=1, max_overflow=1, pool_pre_ping=True)
        coverage = CoverageCollector(metrics_engine, clock)
        app.state.metrics_registry.register(coverage)
        try:
            yield
        finally:
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
    return app
