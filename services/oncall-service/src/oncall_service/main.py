"""On-call: Users, teams, rotation schedules, overrides, escalation policies, and who is on call now."""

from fastapi import FastAPI

from oncall_service.config import Settings, get_settings
from platform_common.app import create_service_app


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()
    return create_service_app(
        settings,
        title="On-call",
        description="Users, teams, rotation schedules, overrides, escalation policies, and who is on call now.",
        dependencies={},
    )
