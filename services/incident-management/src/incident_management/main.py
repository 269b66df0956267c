"""Incident management: Incidents: state machine, timeline, notes, assignment, MTTA/MTTR and escalation."""

from fastapi import FastAPI

from incident_management.config import Settings, get_settings
from platform_common.app import create_service_app


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()
    return create_service_app(
        settings,
        title="Incident management",
        description="Incidents: state machine, timeline, notes, assignment, MTTA/MTTR and escalation.",
        dependencies={
            "oncall-service": settings.oncall_service_url,
            "notification-service": settings.notification_service_url,
        },
    )
