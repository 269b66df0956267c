"""Who may call what, over every route of every service.

EXPECTED below is the table of who may call each route, written out here from
SECURITY.md ("Who may do what"), not read from the code: a route whose declared
rule differs from it fails, and so does a route the table does not name (a new
route needs its line here, which is where its access gets reviewed).

Each route is then called by each kind of caller: nobody, a viewer, a responder,
an admin (each with a fresh API token of their own), the platform itself (the
internal credential), and for "self or admin" routes the user the path names.
A caller the expected rule admits gets past the check (any answer but 401/403:
with made-up ids and empty bodies that is mostly a 404 or a 422); a caller it
refuses gets 401 when they sent no credential and 403 when they did."""

import uuid
from collections.abc import AsyncIterator

import httpx
import pytest

from platform_common.auth import (
    ADMIN,
    INTEGRATION_KEY,
    OPEN,
    PLATFORM_ONLY,
    RESPONDER,
    SELF_OR_ADMIN,
    SIGNED_IN,
    SIGNED_LINK,
    VIEWER,
    Access,
)
from platform_testing import (
    OPEN_BY_DESIGN,
    PLATFORM_HEADERS,
    RouteRule,
    reset_database,
    route_table,
    running_app,
    user_with_token,
)

CALLERS = ("anonymous", "viewer", "responder", "admin", "platform")
# Who each rule lets past; the rest are refused. "self" is the user the path's
# {user_id} names, whatever their role (a viewer here).
ADMITS: dict[Access, set[str]] = {
    OPEN: set(CALLERS),
    VIEWER: {"viewer", "responder", "admin", "platform"},
    RESPONDER: {"responder", "admin", "platform"},
    ADMIN: {"admin", "platform"},
    SELF_OR_ADMIN: {"self", "admin", "platform"},
    SIGNED_IN: {"viewer", "responder", "admin"},  # a person's own account: not the platform's
    PLATFORM_ONLY: {"platform"},
    # The credential is the key or the link itself: no login stands in for it.
    INTEGRATION_KEY: set(),
    SIGNED_LINK: set(),
}
# The senders' routes get a well-formed alert, so only the missing key can refuse it.
SENDER_BODIES = {
    "/api/v1/alerts": {"severity": "critical", "message": "disk full"},
    "/v2/enqueue": {
        "routing_key": "not-a-key",
        "event_action": "trigger",
        "payload": {"summary": "disk full", "source": "db-1", "severity": "critical"},
    },
}
SERVICES = ("alert-ingestion", "incident-management", "oncall-service", "notification-service")
# Every service answers these (platform_common.app): open, except the log level.
EVERY_SERVICE: dict[str, Access] = {
    "GET /health": OPEN,
    "GET /health/ready": OPEN,
    "GET /metrics": OPEN,
    "GET /openapi.json": OPEN,
    "GET /docs": OPEN,
    "GET /docs/oauth2-redirect": OPEN,
    "GET /redoc": OPEN,
    "GET /admin/log-level": ADMIN,
    "PUT /admin/log-level": ADMIN,
}
# SECURITY.md's "Who may do what", route by route: viewers read everything;
# responders also open, change and annotate incidents and make and remove
# overrides (their own: the route checks whose); admins also run users, teams,
# services, schedules, layers, policies and integration keys; a user's own
# account and profile are theirs; the platform alone sends pages and reports
# deliveries; senders bring an integration key, page links are their own credential.
EXPECTED: dict[str, dict[str, Access]] = {
    "alert-ingestion": {
        "POST /api/v1/alerts": INTEGRATION_KEY,
        "POST /v2/enqueue": INTEGRATION_KEY,
        "POST /api/v1/webhooks/alertmanager": INTEGRATION_KEY,
        "POST /api/v1/webhooks/grafana": INTEGRATION_KEY,
        "GET /api/v1/alerts": VIEWER,
        "GET /api/v1/alerts/{alert_id}": VIEWER,
        "GET /api/v1/integrations": VIEWER,
        "POST /api/v1/integrations": ADMIN,
        "DELETE /api/v1/integrations/{integration_id}": ADMIN,
        "GET /api/v1/maintenance-windows": VIEWER,
        "GET /api/v1/maintenance-windows/{window_id}": VIEWER,
        "POST /api/v1/maintenance-windows": RESPONDER,
        "PATCH /api/v1/maintenance-windows/{window_id}": RESPONDER,
        "DELETE /api/v1/maintenance-windows/{window_id}": RESPONDER,
        "GET /api/v1/heartbeats": VIEWER,
        "GET /api/v1/heartbeats/{heartbeat_id}": VIEWER,
        "POST /api/v1/heartbeats": ADMIN,
        "PATCH /api/v1/heartbeats/{heartbeat_id}": ADMIN,
        "DELETE /api/v1/heartbeats/{heartbeat_id}": ADMIN,
        "POST /api/v1/heartbeats/{heartbeat_id}/ping": INTEGRATION_KEY,
    },
    "incident-management": {
        "GET /api/v1/incidents": VIEWER,
        "GET /api/v1/incidents/{incident_id}": VIEWER,
        "GET /api/v1/incidents/{incident_id}/notes": VIEWER,
        "GET /api/v1/incidents/{incident_id}/timeline": VIEWER,
        "GET /api/v1/incidents/{incident_id}/pages": VIEWER,
        "GET /api/v1/incidents/{incident_id}/metrics": VIEWER,
        "GET /api/v1/incidents/stats/summary": VIEWER,
        "GET /api/v1/incidents/stats/daily": VIEWER,
        "GET /api/v1/incidents/changes": VIEWER,
        "POST /api/v1/incidents": RESPONDER,
        "PATCH /api/v1/incidents/{incident_id}": RESPONDER,
        "POST /api/v1/incidents/{incident_id}/notes": RESPONDER,
        "POST /api/v1/incidents/{incident_id}/escalate": RESPONDER,
        "POST /api/v1/incidents/{incident_id}/snooze": RESPONDER,
        "POST /api/v1/incidents/bulk": RESPONDER,
        "POST /api/v1/incidents/batch": PLATFORM_ONLY,
        "POST /api/v1/incidents/{incident_id}/deliveries": PLATFORM_ONLY,
        "POST /api/v1/incidents/deliveries/batch": PLATFORM_ONLY,
        "POST /api/v1/incidents/{incident_id}/merge": RESPONDER,
        "POST /api/v1/incidents/{incident_id}/split": RESPONDER,
        "POST /api/v1/incidents/{incident_id}/alert-joined": PLATFORM_ONLY,
        "GET /api/v1/incidents/links/{token}": SIGNED_LINK,
        "POST /api/v1/incidents/links/{token}": SIGNED_LINK,
    },
    "oncall-service": {
        "POST /api/v1/auth/login": OPEN,
        "POST /api/v1/auth/logout": SIGNED_IN,
        "GET /api/v1/auth/me": SIGNED_IN,
        "PUT /api/v1/auth/password": SIGNED_IN,
        "GET /api/v1/auth/tokens": SIGNED_IN,
        "POST /api/v1/auth/tokens": SIGNED_IN,
        "DELETE /api/v1/auth/tokens/{token_id}": SIGNED_IN,
        "GET /api/v1/oncall": VIEWER,
        "GET /api/v1/oncall/current": VIEWER,
        "GET /api/v1/oncall/services": VIEWER,
        "GET /api/v1/users": VIEWER,
        "GET /api/v1/users/{user_id}": VIEWER,
        "POST /api/v1/users": ADMIN,
        "PATCH /api/v1/users/{user_id}": SELF_OR_ADMIN,
        "DELETE /api/v1/users/{user_id}": ADMIN,
        "POST /api/v1/users/{user_id}/password": ADMIN,
        "POST /api/v1/users/{user_id}/contact-methods": SELF_OR_ADMIN,
        "DELETE /api/v1/users/{user_id}/contact-methods/{method_id}": SELF_OR_ADMIN,
        "POST /api/v1/users/{user_id}/contact-methods/{method_id}/test": SELF_OR_ADMIN,
        "GET /api/v1/users/{user_id}/notification-rules": SELF_OR_ADMIN,
        "PUT /api/v1/users/{user_id}/notification-rules": SELF_OR_ADMIN,
        "GET /api/v1/teams": VIEWER,
        "GET /api/v1/teams/{team_id}": VIEWER,
        "POST /api/v1/teams": ADMIN,
        "PATCH /api/v1/teams/{team_id}": ADMIN,
        "DELETE /api/v1/teams/{team_id}": ADMIN,
        "PUT /api/v1/teams/{team_id}/members/{user_id}": ADMIN,
        "DELETE /api/v1/teams/{team_id}/members/{user_id}": ADMIN,
        "GET /api/v1/services": VIEWER,
        "GET /api/v1/services/{service_id}": VIEWER,
        "POST /api/v1/services": ADMIN,
        "PATCH /api/v1/services/{service_id}": ADMIN,
        "DELETE /api/v1/services/{service_id}": ADMIN,
        "GET /api/v1/schedules": VIEWER,
        "GET /api/v1/schedules/{schedule_id}": VIEWER,
        "GET /api/v1/schedules/{schedule_id}/shifts": VIEWER,
        "POST /api/v1/schedules": ADMIN,
        "PATCH /api/v1/schedules/{schedule_id}": ADMIN,
        "DELETE /api/v1/schedules/{schedule_id}": ADMIN,
        "POST /api/v1/schedules/{schedule_id}/layers": ADMIN,
        "PUT /api/v1/schedules/{schedule_id}/layers/{layer_id}": ADMIN,
        "DELETE /api/v1/schedules/{schedule_id}/layers/{layer_id}": ADMIN,
        "POST /api/v1/schedules/preview": ADMIN,
        "GET /api/v1/schedules/{schedule_id}/overrides": VIEWER,
        "GET /api/v1/schedules/{schedule_id}/overrides/{override_id}": VIEWER,
        "POST /api/v1/schedules/{schedule_id}/overrides": RESPONDER,
        "PATCH /api/v1/schedules/{schedule_id}/overrides/{override_id}": RESPONDER,
        "DELETE /api/v1/schedules/{schedule_id}/overrides/{override_id}": RESPONDER,
        "GET /api/v1/escalation-policies": VIEWER,
        "GET /api/v1/escalation-policies/{policy_id}": VIEWER,
        "POST /api/v1/escalation-policies": ADMIN,
        "PATCH /api/v1/escalation-policies/{policy_id}": ADMIN,
        "DELETE /api/v1/escalation-policies/{policy_id}": ADMIN,
    },
    "notification-service": {
        "GET /api/v1/notifications": VIEWER,
        "GET /api/v1/notifications/{notification_id}": VIEWER,
        "POST /api/v1/notify": PLATFORM_ONLY,
        "POST /api/v1/notify/batch": PLATFORM_ONLY,
    },
}


def expected_rule(service: str, row: RouteRule) -> Access | None:
    """The rule this table gives the route, or None when it names no such route."""
    key = f"{row.method} {row.path}"
    return EXPECTED[service].get(key) or EVERY_SERVICE.get(key)


def _table(service_apps) -> list[tuple[str, RouteRule]]:
    return [(name, row) for name in SERVICES for row in route_table(service_apps[name])]


def test_every_route_of_every_service_declares_exactly_one_rule(service_apps):
    rows = _table(service_apps)
    assert len(rows) > 80  # the four apps' routes were found at all
    missing = [f"{name}: {r.method} {r.path}" for name, r in rows if not r.rules and r.path not in OPEN_BY_DESIGN]
    assert not missing, "routes without an Access rule:\n" + "\n".join(missing)
    several = [f"{name}: {r.method} {r.path} {r.rules}" for name, r in rows if len(r.rules) > 1]
    assert not several, "routes with more than one rule (which one holds?):\n" + "\n".join(several)
    unknown = {rule for _, r in rows for rule in r.rules} - set(ADMITS)
    assert not unknown, f"rules this table does not know: {unknown}"


def test_every_routes_declared_rule_is_the_expected_one(service_apps):
    wrong = []
    for name, row in _table(service_apps):
        expected = expected_rule(name, row)
        declared = row.rules[0] if row.rules else OPEN  # FastAPI's own routes and /metrics declare none
        if expected is None:
            wrong.append(f"{name}: {row.method} {row.path} [{declared.name}] is not in EXPECTED: add it there")
        elif declared is not expected:
            wrong.append(f"{name}: {row.method} {row.path} declares [{declared.name}], expected [{expected.name}]")
    served = {(name, f"{row.method} {row.path}") for name, row in _table(service_apps)}
    gone = [f"{name}: {route}" for name in SERVICES for route in EXPECTED[name] if (name, route) not in served]
    wrong += [f"{route} is in EXPECTED but not served" for route in gone]
    assert not wrong, "routes whose access differs from the expected table:\n" + "\n".join(wrong)


class Callers:
    """Headers per kind of caller, for the users made in this run's database."""

    def __init__(self, database_url: str) -> None:
        self.database_url = database_url
        self.ids: dict[str, uuid.UUID] = {}

    def headers(self, caller: str) -> dict[str, str]:
        if caller == "anonymous":
            return {}
        if caller == "platform":
            return PLATFORM_HEADERS
        role = "viewer" if caller == "self" else caller
        # A fresh token per call: a route that ends the caller's credential (logout) ends only that one.
        user_id, headers = user_with_token(self.database_url, f"Table {role.title()}", role=role)
        self.ids[role] = user_id
        return headers


def _url(path: str, caller: str, callers: Callers) -> str:
    """The path with its parameters filled: made-up ids, or the caller's own id for {user_id}."""
    url = path
    if "{user_id}" in url:
        url = url.replace("{user_id}", str(callers.ids["viewer"] if caller == "self" else uuid.uuid4()))
    if "{token}" in url:
        url = url.replace("{token}", "not-a-signed-link")
    while "{" in url:
        start, end = url.index("{"), url.index("}")
        url = url[:start] + str(uuid.uuid4()) + url[end + 1 :]
    return url


@pytest.fixture
async def running(service_apps, database_url) -> AsyncIterator[dict[str, httpx.AsyncClient]]:
    reset_database(database_url)
    async with (
        running_app(service_apps["alert-ingestion"], as_platform=False) as ingestion,
        running_app(service_apps["incident-management"], as_platform=False) as incidents,
        running_app(service_apps["oncall-service"], as_platform=False) as oncall,
        running_app(service_apps["notification-service"], as_platform=False) as notifications,
    ):
        yield {
            "alert-ingestion": ingestion,
            "incident-management": incidents,
            "oncall-service": oncall,
            "notification-service": notifications,
        }


async def test_each_rule_admits_exactly_its_callers_on_every_route(service_apps, running, database_url):
    callers = Callers(database_url)
    callers.headers("self")  # the viewer whose own id "self" routes are called with
    wrong = []
    for name, row in _table(service_apps):
        # Called as the expected table says, not as declared: a wrong declaration fails here too.
        rule = expected_rule(name, row)
        if rule is None:
            wrong.append(f"{name}: {row.method} {row.path} is not in EXPECTED")
            continue
        kinds = (*CALLERS, "self") if rule is SELF_OR_ADMIN else CALLERS
        for caller in kinds:
            headers = callers.headers(caller)
            url = _url(row.path, caller, callers)
            body = SENDER_BODIES.get(row.path, {}) if row.method in ("POST", "PUT", "PATCH") else None
            answer = await running[name].request(row.method, url, headers=headers, json=body)
            admitted = caller in ADMITS[rule]
            if admitted:
                ok = answer.status_code not in (401, 403)
            elif rule is INTEGRATION_KEY and row.path == "/v2/enqueue":
                # PagerDuty's Events API answers an unknown routing_key with its own 400.
                ok = answer.status_code == 400 and "routing_key" in answer.text
            elif caller == "anonymous" or rule in (INTEGRATION_KEY, SIGNED_LINK):
                ok = answer.status_code == 401
            else:
                ok = answer.status_code == 403
            if answer.status_code >= 500:
                ok = False
            if not ok:
                verdict = "admitted" if admitted else "refused"
                wrong.append(
                    f"{name}: {row.method} {row.path} [{rule.name}] as {caller}: {answer.status_code}"
                    f" (should be {verdict}) {answer.text[:160]}"
                )
    assert not wrong, f"{len(wrong)} answers break the table:\n" + "\n".join(wrong)


async def test_a_refusal_says_why_and_how_to_sign_in(running):
    oncall = running["oncall-service"]
    anonymous = await oncall.get("/api/v1/users")
    assert anonymous.status_code == 401
    assert anonymous.headers["www-authenticate"] == "Bearer"
    assert "Log in" in anonymous.json()["detail"]
    wrong_token = await oncall.get("/api/v1/users", headers={"Authorization": "Bearer ipt_made-up"})
    assert wrong_token.status_code == 401 and "unknown, expired or revoked" in wrong_token.json()["detail"]
