"""Notifications: Durable delivery of pages over webhook, Slack, email and log, with retries and history."""

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

import httpx
from fastapi import FastAPI

from notification_service.api.routes import notifications, notify
from notification_service.channels.base import Channel
from notification_service.channels.email import EmailChannel
from notification_service.channels.log import LogChannel
from notification_service.channels.slack import SlackChannel
from notification_service.channels.webhook import WebhookChannel
from notification_service.config import Settings, get_settings
from notification_service.rendering import Renderer
from notification_service.workers.delivery import DeliveryWorker
from notification_service.workers.retention import NotificationRetention
from platform_common.app import create_service_app
from platform_common.clock import SystemClock
from platform_common.health import Check


def smtp_probe(host: str, port: int) -> Callable[[], Awaitable[None]]:
    """Readiness sees whether the mail relay accepts connections (email is one channel of
    several, so it is reported, not required)."""

    async def probe() -> None:
        _, writer = await asyncio.open_connection(host, port)
        writer.close()
        await writer.wait_closed()

    return probe


def create_app(settings: Settings | None = None) -> FastAPI:
    """The notification-service app."""
    settings = settings or get_settings()
    # Fail fast: a broken template override stops the start, not a page at night.
    renderer = Renderer(settings.notification_templates_dir)
    renderer.check()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        # No redirects: a signed body must not be replayed to wherever a 3xx points.
        http = httpx.AsyncClient(timeout=settings.notification_http_timeout_seconds, follow_redirects=False)
        channels: dict[str, Channel] = {
            "webhook": WebhookChannel(
                http,
                renderer,
                settings.notification_webhook_secret.get_secret_value().encode(),
                public_only=settings.public_targets_only,
            ),
            "slack": SlackChannel(http, renderer, public_only=settings.public_targets_only),
            "email": EmailChannel(settings, renderer),
            "log": LogChannel(renderer),
        }
        app.state.clock = SystemClock()
        app.state.worker = None
        if settings.smtp_host:
            app.state.monitor.add(Check("smtp", smtp_probe(settings.smtp_host, settings.smtp_port), critical=False))
        if settings.notification_worker_enabled:
            app.state.worker = DeliveryWorker(db=app.state.db, channels=channels, settings=settings)
            app.state.worker.start()
        retention = None
        if settings.notification_retention_enabled:
            retention = NotificationRetention(
                app.state.db,
                app.state.clock,
                days=settings.notification_retention_days,
                batch=settings.notification_retention_batch_size,
                interval=settings.notification_retention_interval_seconds,
                grace=settings.graceful_shutdown_seconds,
            )
            retention.start()
        try:
            yield
        finally:
            if retention is not None:
                await retention.stop()
            if app.state.worker is not None:
                await app.state.worker.stop()
            await http.aclose()

    return create_service_app(
        settings,
        title="Notifications",
        description="Durable delivery of pages over webhook, Slack, email and log, with retries and history.",
        routers=[notify.router, notifications.router],
        lifespan=lifespan,
    )
