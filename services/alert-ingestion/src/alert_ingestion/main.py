"""Alert ingestion: Receives alerts in every supported format, deduplicates and correlates them into incidents."""

from fastapi import FastAPI

from alert_ingestion.config import Settings, get_settings
from platform_common.app import create_service_app


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()
    return create_service_app(
        settings,
        title="Alert ingestion",
        description="Receives alerts in every supported format, deduplicates and correlates them into incidents.",
        dependencies={"incident-management": settings.incident_service_url},
    )
