"""Alert ingestion: receives alerts in every supported format, deduplicates and correlates them into incidents."""

import functools
import gc
import logging
from collections.abc import AsyncIterator, Iterator
from contextlib import AsyncExitStack, asynccontextmanager, contextmanager

from fastapi import FastAPI
from sqlalchemy import create_engine

from alert_ingestion.api import hot_routes
from alert_ingestion.api.routes import alerts, heartbeats, integrations, maintenance, webhooks
from alert_ingestion.clients.incidents import IncidentGateway
from alert_ingestion.config import Settings, get_settings
from alert_ingestion.db.alert_writer import AlertWriter
from alert_ingestion.domain.rate_limit import RateLimiter
from alert_ingestion.metrics import MaintenanceCollector
from alert_ingestion.usecases import integrations as integration_keys
from alert_ingestion.usecases.ingest import Ingestor, IngestSettings
from alert_ingestion.usecases.integrations import IntegrationKeys
from alert_ingestion.workers.heartbeats import HeartbeatWatch
from alert_ingestion.workers.incident_actions import IncidentActionSender
from alert_ingestion.workers.partitions import AlertPartitions
from platform_common.app import create_service_app
from platform_common.auth import internal_headers
from platform_common.clock import Clock, SystemClock
from platform_common.db import Database, database_urls
from platform_common.http import ServiceClient

log = logging.getLogger(__name__)

# Python's garbage collector runs a young-generation pass every 700 net
# allocations by default: every couple of requests, and every few hundred a
# full scan, which was most of the p99 (bench/ingest.py's figures: the README's
# "The hot path"). Every 20,000 instead. (Since then every service keeps the
# ~100k objects start-up leaves out of the full scans: platform_common.app.)
GC_THRESHOLDS = (20_000, 20, 100)


def create_app(settings: Settings | None = None, clock: Clock | None = None) -> FastAPI:
    """The alert-ingestion app; `clock` is replaced in tests."""
    settings = settings or get_settings()
    app = create_service_app(
        settings,
        title="Alert ingestion",
        description="Receives alerts in every supported format, deduplicates and correlates them into incidents.",
        routers=[alerts.router, webhooks.router, integrations.router, maintenance.router, heartbeats.router],
        lifespan=functools.partial(_lifespan, settings=settings, clock=clock or SystemClock()),
        dependencies={"incident-management": settings.incident_service_url},
    )
    # Before FastAPI's routes: the first match wins, and theirs are slower to reach.
    app.router.routes[0:0] = hot_routes.routes()
    hot_routes.document(app)
    return app


@asynccontextmanager
async def _lifespan(app: FastAPI, *, settings: Settings, clock: Clock) -> AsyncIterator[None]:
    """The per-process objects the routes read from app.state, and the owed actions' worker."""
    async with AsyncExitStack() as stack:
        gateway = _incident_gateway(settings)
        stack.push_async_callback(gateway.aclose)
        sender = _action_sender(app.state.db, gateway, settings, clock)
        stack.enter_context(_maintenance_gauges(app, settings, clock))
        writer = await AlertWriter.connect(database_urls(settings)[0], max_batch=settings.ingest_batch_max)
        stack.push_async_callback(writer.close)
        app.state.clock = clock
        app.state.integration_keys = IntegrationKeys(app.state.db, ttl=settings.integration_cache_seconds)
        app.state.rate_limiter = RateLimiter(settings.rate_limit_per_minute)
        app.state.client_limiter = RateLimiter(settings.rate_limit_per_client_per_minute)
        app.state.ingestor = Ingestor(
            writer,
            IngestSettings(
                correlation_window_minutes=settings.correlation_window_minutes,
                auto_resolve_incidents=settings.auto_resolve_incidents,
                maintenance_cache_seconds=settings.maintenance_cache_seconds,
            ),
            clock.now,
            on_actions=sender.send_soon,
        )
        if settings.environment == "local":
            await _seed(app.state.db, settings, clock)
        # Process-wide, like the event loop: set by the app that serves the process.
        gc.set_threshold(*GC_THRESHOLDS)
        watch = HeartbeatWatch(
            app.state.db,
            app.state.ingestor,
            interval=settings.heartbeat_check_interval_seconds,
            grace=settings.graceful_shutdown_seconds,
        )
        partitions = AlertPartitions(
            app.state.db,
            clock,
            ahead=settings.alert_partitions_ahead,
            retention_days=settings.alert_retention_days if settings.alert_retention_enabled else None,
            interval=settings.alert_partitions_interval_seconds,
            grace=settings.graceful_shutdown_seconds,
        )
        if settings.incident_actions_worker_enabled:
            sender.worker.start()
        if settings.heartbeat_watch_enabled:
            watch.worker.start()
        if settings.alert_partitions_enabled:
            partitions.worker.start()
        stack.push_async_callback(partitions.worker.stop)
        # Stopped first (the stack unwinds in reverse): its sends still need the gateway and the database.
        stack.push_async_callback(sender.worker.stop)
        # Before the sender (unwound first): the watch's alerts hand the sender their owed creates.
        stack.push_async_callback(watch.worker.stop)
        yield


@contextmanager
def _maintenance_gauges(app: FastAPI, settings: Settings, clock: Clock) -> Iterator[None]:
    """The maintenance gauges, read from the database at scrape time through a small synchronous
    pool (the Prometheus collector runs outside the event loop), on this app's own registry."""
    engine = create_engine(database_urls(settings)[1], pool_size=1, max_overflow=1, pool_pre_ping=True)
    gauges = MaintenanceCollector(engine, clock.now)
    app.state.metrics_registry.register(gauges)
    try:
        yield
    finally:
        app.state.metrics_registry.unregister(gauges)
        engine.dispose()


def _incident_gateway(settings: Settings) -> IncidentGateway:
    """Two clients of incident-management: a short-fused one for creates (the database fallback stands behind
    it), a regular one for acknowledges and resolves."""
    headers = internal_headers(settings.internal_tokens)
    return IncidentGateway(
        ServiceClient(
            settings.incident_service_url,
            headers=headers,
            timeout=settings.incident_create_timeout_seconds,
            retries=settings.incident_create_retries,
            backoff_initial=0.05,
            backoff_max=0.2,
        ),
        ServiceClient(settings.incident_service_url, headers=headers, timeout=settings.http_timeout_seconds),
    )


def _action_sender(db: Database, gateway: IncidentGateway, settings: Settings, clock: Clock) -> IncidentActionSender:
    """Sends what ingestion owes incident-management, retried with platform_common.retry's backoff."""
    return IncidentActionSender(
        db,
        gateway,
        clock.now,
        max_attempts=settings.incident_actions_max_attempts,
        retry_base=settings.incident_actions_retry_base_seconds,
        retry_cap=settings.incident_actions_retry_max_seconds,
        interval=settings.incident_actions_interval_seconds,
        grace=settings.graceful_shutdown_seconds,
    )


async def _seed(db: Database, settings: Settings, clock: Clock) -> None:
    """Local runs start with one integration so alerts can be sent at once."""
    try:
        async with db.sessionmaker() as session, session.begin():
            key = await integration_keys.seed(
                session,
                key=settings.seed_integration_key.get_secret_value() if settings.seed_integration_key else None,
                service=settings.seed_integration_service,
                now=clock.now(),
            )
    except Exception:  # no schema yet (not migrated): the service still starts and says so in readiness
        log.exception("could not seed the local integration")
        return
    if key:
        log.warning(
            "seeded local integration for service %r; routing/integration key: %s",
            settings.seed_integration_service,
            key,
            extra={"integration_key": key},
        )
