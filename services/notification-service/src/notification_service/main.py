"""Notifications: Durable delivery of pages over webhook, Slack, email and log, with retries and history."""

from fastapi import FastAPI

from notification_service.config import Settings, get_settings
from platform_common.app import create_service_app


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()
    return create_service_app(
        settings,
        title="Notifications",
        description="Durable delivery of pages over webhook, Slack, email and log, with retries and history.",
        dependencies={"oncall-service": settings.oncall_service_url},
    )
