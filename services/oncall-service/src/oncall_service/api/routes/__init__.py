"""The routers of the on-call API, in the order the docs list them."""

from oncall_service.api.routes import auth, oncall, overrides, policies, schedules, services, teams, users

ROUTERS = (
    auth.router,
    oncall.router,
    users.router,
    teams.router,
    services.router,
    schedules.router,
    overrides.router,
    policies.router,
)
