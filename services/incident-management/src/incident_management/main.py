"""Incident management: incidents, their state machine, timeline, notes, assignment, MTTA/MTTR and escalation."""

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from sqlalchemy import create_engine

from incident_management.api.routes import deliveries, incidents, stats
from incident_management.api.routes import links as link_routes
from incident_management.clients.notifications import NotificationClient
from incident_management.clients.oncall import OncallClient
from incident_management.config import Settings, get_settings
from incident_management.metrics import IncidentStateCollector
from incident_management.usecases import links
from incident_management.workers.engine import IncidentEngine
from platform_common.app import create_service_app
from platform_common.auth import internal_headers
from platform_common.clock import Clock, service_clock
from platform_common.db import database_urls
from platform_common.http import ServiceClient
from platform_common.listen import Listener

log = logging.getLogger(__name__)


def create_app(settings: Settings | None = None, *, clock: Clock | None = None) -> FastAPI:
    """The incident-management app. `clock` overrides where "now" comes from (tests)."""
    settings = settings or get_settings()
    clock = clock or service_clock(settings.incident_clock_speed)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.clock = clock
        oncall = OncallClient(
            ServiceClient(
                settings.oncall_service_url,
                headers=internal_headers(settings.internal_tokens),
                timeout=settings.http_timeout_seconds,
            )
        )
        notifications = NotificationClient(
            ServiceClient(
                settings.notification_service_url,
                headers=internal_headers(settings.internal_tokens),
                timeout=settings.http_timeout_seconds,
            )
        )
        engine = IncidentEngine(
            db=app.state.db,
            clock=clock,
            settings=settings,
            oncall=oncall,
            notifications=notifications,
        )
        app.state.engine = engine
        # A small synchronous pool for the Prometheus collector, which runs outside the event loop.
        metrics_engine = create_engine(database_urls(settings)[1], pool_size=1, max_overflow=1, pool_pre_ping=True)
        # On this app's own registry, so each app reads its own database.
        state_gauges = IncidentStateCollector(metrics_engine, clock)
        app.state.metrics_registry.register(state_gauges)
        listening = None
        if settings.incident_worker_enabled:
            engine.worker.start()
            # Incidents opened by any replica or by ingestion's fallback wake this engine at once.
            listener = Listener(database_urls(settings)[0], "incident_opened", engine.wake)
            listening = asyncio.create_task(listener.run(), name="incident-listener")
        try:
            yield
        finally:
            if listening is not None:
                listening.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await listening
            await engine.worker.stop()
            app.state.metrics_registry.unregister(state_gauges)
            metrics_engine.dispose()
            for client in (oncall, notifications):
                await client.aclose()

    app = create_service_app(
        settings,
        title="Incident management",
        description="Incidents: state machine, timeline, notes, assignment, MTTA/MTTR and escalation.",
        # stats and links first: their fixed segments must win over /{incident_id}.
        routers=[stats.router, link_routes.router, incidents.router, deliveries.router],
        lifespan=lifespan,
        dependencies={
            "oncall-service": settings.oncall_service_url,
            "notification-service": settings.notification_service_url,
        },
    )
    app.state.link_signer = links.signer_for(settings)
    return app
