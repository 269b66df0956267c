"""On-call: users, teams, rotation schedules, overrides, escalation policies, and who is on call now."""

from fastapi import FastAPI

from oncall_service.api.routes import ROUTERS
from oncall_service.config import Settings, get_settings
from platform_common.app import create_service_app
from platform_common.clock import Clock, SystemClock


def create_app(settings: Settings | None = None, *, clock: Clock | None = None) -> FastAPI:
    """The oncall-service app; `clock` is replaced in tests."""
    settings = settings or get_settings()
    app = create_service_app(
        settings,
        title="On-call",
        description="Users, teams, rotation schedules, overrides, escalation policies, and who is on call now.",
        routers=ROUTERS,
        dependencies={},
    )
    # "Now" for requests that do not name a moment; tests pass a ManualClock.
    app.state.clock = clock or SystemClock()
    return app
