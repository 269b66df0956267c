"""Incident management: incidents, their state machine, timeline, notes, assignment, MTTA/MTTR and escalation."""

import asyncio
import contextlib
import signal
import threading
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import AsyncExitStack, asynccontextmanager, contextmanager
from types import FrameType

from fastapi import FastAPI
from sqlalchemy import create_engine

from incident_management.api.routes import changes, deliveries, grouping, incidents, stats
from incident_management.api.routes import links as link_routes
from incident_management.clients.notifications import NotificationClient
from incident_management.clients.oncall import OncallClient
from incident_management.config import Settings, get_settings
from incident_management.metrics import IncidentStateCollector
from incident_management.usecases import links
from incident_management.workers.changes import ChangeFeed
from incident_management.workers.engine import IncidentEngine
from incident_management.workers.retention import TimelineRetention
from platform_common.app import create_service_app
from platform_common.auth import internal_headers
from platform_common.clock import Clock, service_clock
from platform_common.db import Database, database_urls
from platform_common.http import ServiceClient
from platform_common.listen import Listener


def create_app(settings: Settings | None = None, *, clock: Clock | None = None) -> FastAPI:
    """The incident-management app. `clock` overrides where "now" comes from (tests)."""
    settings = settings or get_settings()
    clock = clock or service_clock(settings.incident_clock_speed)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.clock = clock
        async with AsyncExitStack() as stack:
            app.state.engine = await stack.enter_async_context(_engine(app.state.db, settings, clock))
            stack.enter_context(_state_gauges(app, settings, clock))
            app.state.changes = await stack.enter_async_context(_change_feed(app.state.db, settings))
            if settings.incident_worker_enabled:
                await stack.enter_async_context(_running(app.state.engine, settings))
            if settings.incident_timeline_retention_enabled:
                await stack.enter_async_context(_retention(app.state.db, settings, clock))
            yield

    app = create_service_app(
        settings,
        title="Incident management",
        description="Incidents: state machine, timeline, notes, assignment, MTTA/MTTR and escalation.",
        # stats, links and changes first: their fixed segments must win over /{incident_id}.
        routers=[
            stats.router,
            link_routes.router,
            changes.router,
            incidents.router,
            grouping.router,
            deliveries.router,
        ],
        lifespan=lifespan,
        dependencies={
            "oncall-service": settings.oncall_service_url,
            "notification-service": settings.notification_service_url,
        },
    )
    app.state.link_signer = links.signer_for(settings)
    return app


@asynccontextmanager
async def _engine(db: Database, settings: Settings, clock: Clock) -> AsyncIterator[IncidentEngine]:
    """The engine with its clients of oncall-service and notification-service, closed after."""
    oncall = OncallClient(_service_client(settings, settings.oncall_service_url))
    notifications = NotificationClient(_service_client(settings, settings.notification_service_url))
    try:
        yield IncidentEngine(db=db, clock=clock, settings=settings, oncall=oncall, notifications=notifications)
    finally:
        await oncall.aclose()
        await notifications.aclose()


def _service_client(settings: Settings, url: str) -> ServiceClient:
    return ServiceClient(url, headers=internal_headers(settings.internal_tokens), timeout=settings.http_timeout_seconds)


@contextmanager
def _state_gauges(app: FastAPI, settings: Settings, clock: Clock) -> Iterator[None]:
    """The gauges read from the database at scrape time, on this app's own registry
    (so each app reads its own database), through a small synchronous pool: the
    Prometheus collector runs outside the event loop."""
    engine = create_engine(database_urls(settings)[1], pool_size=1, max_overflow=1, pool_pre_ping=True)
    gauges = IncidentStateCollector(engine, clock)
    app.state.metrics_registry.register(gauges)
    try:
        yield
    finally:
        app.state.metrics_registry.unregister(gauges)
        engine.dispose()


@asynccontextmanager
async def _change_feed(db: Database, settings: Settings) -> AsyncIterator[ChangeFeed]:
    """The watcher of the change streams. The streams end at the shutdown signal,
    not at lifespan exit: uvicorn runs that only once every response is complete,
    and an open stream never completes by itself."""
    feed = ChangeFeed(
        db,
        interval=settings.incident_changes_interval_seconds,
        max_streams=settings.incident_changes_max_streams,
        grace=settings.graceful_shutdown_seconds,
    )
    feed.start()
    with _on_exit_signal(feed.close):
        try:
            yield feed
        finally:
            await feed.stop()


@contextmanager
def _on_exit_signal(action: Callable[[], None]) -> Iterator[None]:
    """Run `action`, then the handler already there (uvicorn's graceful shutdown), on
    SIGTERM and SIGINT. Only the main thread has signals (not an app under a test client)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = {sig: signal.getsignal(sig) for sig in (signal.SIGTERM, signal.SIGINT)}

    def handle(sig: int, frame: FrameType | None) -> None:
        action()
        handler = previous[signal.Signals(sig)]
        if callable(handler):
            handler(sig, frame)

    for sig in previous:
        signal.signal(sig, handle)
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


@asynccontextmanager
async def _running(engine: IncidentEngine, settings: Settings) -> AsyncIterator[None]:
    """The engine's loop, woken at once by incidents opened by any replica or by ingestion's fallback."""
    engine.start()
    listener = Listener(database_urls(settings)[0], "incident_opened", engine.opened)
    listening = asyncio.create_task(listener.run(), name="incident-listener")
    try:
        yield
    finally:
        listening.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await listening
        await engine.stop()


@asynccontextmanager
async def _retention(db: Database, settings: Settings, clock: Clock) -> AsyncIterator[None]:
    """The timeline's partitions kept ahead and dropped after the retention, in every replica."""
    retention = TimelineRetention(
        db,
        clock,
        days=settings.incident_timeline_retention_days,
        ahead=settings.incident_timeline_partitions_ahead,
        interval=settings.incident_timeline_retention_interval_seconds,
        grace=settings.graceful_shutdown_seconds,
    )
    retention.start()
    try:
        yield
    finally:
        await retention.stop()
