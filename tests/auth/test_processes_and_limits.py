"""Who may call, shown where it matters: across real processes, between the
services, at the senders' door, and at the limits.

- A revoked API token, a disabled user, an ended session and a lowered role
  count in every service process within a few seconds (each caches a looked-up
  credential for AUTH_CACHE_SECONDS, 2 s), not only in the one that made the change.
- The account lock holds across two oncall-service processes and concurrent tries.
- CORS admits the UI's origin (UI_BASE_URL) only, on every service.
- The routes only the platform itself may call refuse callers without the
  internal credential, users included (admins too), and accept it while it
  rotates ("new,old": the first is sent, both are accepted).
- Alerts need an integration key of their own service; a revoked key stops
  working on every ingestion process within INTEGRATION_CACHE_SECONDS.
- Limits: per key (shared by both sender routes), per client address (whatever
  keys it tries), body size (413, in JSON, on every service).
- notification-service does not call into its own network (loopback,
  private, link-local, cloud metadata) unless told it may, and follows no
  redirect (which could lead there).

Real PostgreSQL throughout; real processes where the point is "across processes".
"""

import asyncio
import threading
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest
from fastapi.routing import APIRoute, iter_route_contexts
from pydantic import SecretStr

from alert_ingestion.config import Settings as IngestionSettings
from alert_ingestion.main import create_app as create_ingestion_app
from incident_management.config import Settings as IncidentSettings
from incident_management.main import create_app as create_incident_app
from notification_service.config import Settings as NotificationSettings
from notification_service.main import create_app as create_notification_app
from oncall_service.config import Settings as OncallSettings
from oncall_service.main import create_app as create_oncall_app
from platform_common.auth import internal_headers, route_rules
from platform_testing import (
    PLATFORM_HEADERS,
    ServiceProcess,
    as_service,
    free_port,
    running_app,
    user_with_token,
    wait_for,
)

# Small enough to reach with a test body, far above any ordinary request of these tests.
MAX_BODY = 16_384
INTEGRATION_CACHE_SECONDS = 1.0
# The promise (auth.py, settings.py): a revocation counts everywhere within the
# 2 s cache; 5 s is the bound the tests hold it to (the cache's hard maximum).
REVOCATION_BOUND_SECONDS = 5.0
PASSWORD = "a-test-password-long-enough"


# --- real processes ---------------------------------------------------------------------------


@dataclass
class Processes:
    oncall: ServiceProcess
    incidents: ServiceProcess
    ingestion: ServiceProcess
    ingestion_b: ServiceProcess

    def all(self) -> list[ServiceProcess]:
        return [self.oncall, self.incidents, self.ingestion, self.ingestion_b]


# A route of each process that any signed-in user may read: what "this process accepts me" is checked with.
PROBES = {
    "oncall": "/api/v1/auth/me",
    "incidents": "/api/v1/incidents?limit=1",
    "ingestion": "/api/v1/alerts?limit=1",
    "ingestion_b": "/api/v1/alerts?limit=1",
}


@pytest.fixture(scope="module")
def processes(database_url: str) -> Iterator[Processes]:
    """oncall-service, incident-management and two alert-ingestion processes,
    started once for the module on the run's database (each test empties it)."""
    nowhere = f"http://127.0.0.1:{free_port()}"
    env = {
        "ENVIRONMENT": "test",
        "LOG_LEVEL": "WARNING",
        "READINESS_INTERVAL_SECONDS": "3600",
        "MAX_BODY_BYTES": str(MAX_BODY),
        "NOTIFICATION_SERVICE_URL": nowhere,
    }
    oncall = ServiceProcess("oncall_service", {**env, "DATABASE_URL": as_service(database_url, "oncall_service")})
    incidents = ServiceProcess(
        "incident_management",
        {
            **env,
            "DATABASE_URL": as_service(database_url, "incident_management"),
            "ONCALL_SERVICE_URL": oncall.url,
            "INCIDENT_WORKER_ENABLED": "false",
        },
    )
    ingestion_env = {
        **env,
        "DATABASE_URL": as_service(database_url, "alert_ingestion"),
        "INCIDENT_SERVICE_URL": incidents.url,
        "INTEGRATION_CACHE_SECONDS": str(INTEGRATION_CACHE_SECONDS),
    }
    found = Processes(
        oncall,
        incidents,
        ServiceProcess("alert_ingestion", ingestion_env),
        ServiceProcess("alert_ingestion", ingestion_env),
    )
    try:
        with ThreadPoolExecutor(4) as pool:
            list(pool.map(lambda p: p.start(), found.all()))
        yield found
    finally:
        for process in found.all():
            process.stop()


def _client(process: ServiceProcess, **headers: str) -> httpx.Client:
    return httpx.Client(base_url=process.url, timeout=10, headers=headers)


def _status(process: ServiceProcess, path: str, headers: dict[str, str]) -> int:
    with _client(process, **headers) as http:
        return http.get(path).status_code


def _accepted_everywhere(processes: Processes, headers: dict[str, str]) -> None:
    for name, path in PROBES.items():
        status = _status(getattr(processes, name), path, headers)
        assert status == 200, f"{name} refused a live credential: {status}"


def _seconds_until_refused_everywhere(processes: Processes, headers: dict[str, str], since: float) -> dict[str, float]:
    """For each process: seconds from `since` until it first answered 401 to `headers`."""
    refused: dict[str, float] = {}
    deadline = since + REVOCATION_BOUND_SECONDS + 5  # measured past the bound, so a miss says by how much
    while len(refused) < len(PROBES) and time.monotonic() < deadline:
        for name, path in PROBES.items():
            if name not in refused and _status(getattr(processes, name), path, headers) == 401:
                refused[name] = time.monotonic() - since
        time.sleep(0.05)
    assert set(refused) == set(PROBES), f"still accepted after {deadline - since:.0f} s by {set(PROBES) - set(refused)}"
    return refused


@pytest.mark.e2e
def test_a_revoked_api_token_is_refused_by_every_process_within_5_seconds(processes, clean_database, record_property):
    _, token = user_with_token(clean_database, "Rita Revoke")
    _accepted_everywhere(processes, token)  # every process now has it cached as valid
    with _client(processes.oncall, **token) as oncall:
        [mine] = oncall.get("/api/v1/auth/tokens").json()["items"]
        revoked = oncall.delete(f"/api/v1/auth/tokens/{mine['id']}")
    since = time.monotonic()
    assert revoked.status_code == 204, revoked.text
    # The process that revoked it forgets at once: its very next answer is a refusal.
    assert _status(processes.oncall, PROBES["oncall"], token) == 401

    took = _seconds_until_refused_everywhere(processes, token, since)

    record_property("seconds_until_refused", took)
    assert max(took.values()) < REVOCATION_BOUND_SECONDS, took
    with _client(processes.incidents, **token) as incidents:
        refusal = incidents.get("/api/v1/incidents")
    assert refusal.headers["www-authenticate"] == "Bearer"
    assert "revoked" in refusal.json()["detail"]


@pytest.mark.e2e
def test_a_disabled_users_token_is_refused_by_every_process_within_5_seconds(
    processes, clean_database, record_property
):
    _, admin = user_with_token(clean_database, "Ada Admin", role="admin")
    user_id, token = user_with_token(clean_database, "Dan Disabled")
    _accepted_everywhere(processes, token)
    with _client(processes.oncall, **admin) as oncall:
        disabled = oncall.patch(f"/api/v1/users/{user_id}", json={"disabled": True})
    since = time.monotonic()
    assert disabled.status_code == 200, disabled.text
    assert disabled.json()["disabled"] is True
    assert _status(processes.oncall, PROBES["oncall"], token) == 401

    took = _seconds_until_refused_everywhere(processes, token, since)

    record_property("seconds_until_refused", took)
    assert max(took.values()) < REVOCATION_BOUND_SECONDS, took
    _accepted_everywhere(processes, admin)  # the admin who did it is not affected


@pytest.mark.e2e
def test_a_logged_out_session_is_refused_by_every_process_within_5_seconds(processes, clean_database, record_property):
    _, admin = user_with_token(clean_database, "Ada Admin", role="admin")
    with _client(processes.oncall, **admin) as oncall:
        made = oncall.post(
            "/api/v1/users", json={"name": "Sam Session", "email": "sam@example.com", "password": PASSWORD}
        )
        assert made.status_code == 201, made.text
        login = oncall.post("/api/v1/auth/login", json={"email": "sam@example.com", "password": PASSWORD})
    assert login.status_code == 200, login.text
    session = {"Cookie": f"session={login.cookies['session']}"}
    _accepted_everywhere(processes, session)  # the UI's cookie works on every service

    with _client(processes.oncall, **session) as oncall:
        logged_out = oncall.post("/api/v1/auth/logout", headers={"Origin": processes.oncall.url})
    since = time.monotonic()
    assert logged_out.status_code == 204, logged_out.text
    assert _status(processes.oncall, PROBES["oncall"], session) == 401

    took = _seconds_until_refused_everywhere(processes, session, since)

    record_property("seconds_until_refused", took)
    assert max(took.values()) < REVOCATION_BOUND_SECONDS, took
    with _client(processes.incidents, **session) as incidents:
        assert "log in again" in incidents.get("/api/v1/incidents").json()["detail"]


# Routes each process refuses below a role: an empty body gets the role's 403 before its 422.
ADMIN_OR_RESPONDER_PROBES = {
    "oncall": "/api/v1/teams",  # admin
    "incidents": "/api/v1/incidents",  # responder
    "ingestion": "/api/v1/integrations",  # admin
    "ingestion_b": "/api/v1/integrations",  # admin
}


def _write_status(process: ServiceProcess, path: str, headers: dict[str, str]) -> int:
    with _client(process, **headers) as http:
        return http.post(path, json={}).status_code


@pytest.mark.e2e
def test_a_lowered_role_counts_in_every_process_within_5_seconds(processes, clean_database, record_property):
    _, admin = user_with_token(clean_database, "Ada Admin", role="admin")
    user_id, token = user_with_token(clean_database, "Lou Lowered", role="admin")
    for name, path in ADMIN_OR_RESPONDER_PROBES.items():  # admitted (an empty body: 422), and now cached so
        assert _write_status(getattr(processes, name), path, token) == 422, name
    with _client(processes.oncall, **admin) as oncall:
        lowered = oncall.patch(f"/api/v1/users/{user_id}", json={"role": "viewer"})
    since = time.monotonic()
    assert lowered.status_code == 200, lowered.text
    assert _write_status(processes.oncall, ADMIN_OR_RESPONDER_PROBES["oncall"], token) == 403

    took: dict[str, float] = {}
    while len(took) < len(ADMIN_OR_RESPONDER_PROBES) and time.monotonic() < since + REVOCATION_BOUND_SECONDS + 5:
        for name, path in ADMIN_OR_RESPONDER_PROBES.items():
            if name not in took and _write_status(getattr(processes, name), path, token) == 403:
                took[name] = time.monotonic() - since
        time.sleep(0.05)

    record_property("seconds_until_refused", took)
    assert set(took) == set(ADMIN_OR_RESPONDER_PROBES), f"the old role still counts: {took}"
    assert max(took.values()) < REVOCATION_BOUND_SECONDS, took
    _accepted_everywhere(processes, token)  # still signed in, as a viewer


# --- the account lock across replicas ---------------------------------------------------------


@pytest.mark.e2e
def test_the_account_lock_holds_across_two_oncall_processes_and_concurrent_tries(clean_database):
    env = {"DATABASE_URL": clean_database, "ENVIRONMENT": "test", "LOG_LEVEL": "WARNING"}
    with ServiceProcess("oncall_service", env) as first, ServiceProcess("oncall_service", env) as second:
        _, admin = user_with_token(clean_database, "Ada Admin", role="admin")
        made = httpx.post(
            f"{first.url}/api/v1/users",
            json={"name": "Lee Locked", "email": "lee@example.com", "password": PASSWORD},
            headers=admin,
        )
        assert made.status_code == 201, made.text

        def log_in(process: ServiceProcess, password: str) -> httpx.Response:
            body = {"email": "lee@example.com", "password": password}
            return httpx.post(f"{process.url}/api/v1/auth/login", json=body, timeout=10)

        # Four wrong passwords at once, two on each process: none of them is lost...
        with ThreadPoolExecutor(4) as pool:
            tries = list(pool.map(lambda p: log_in(p, "wrong password"), [first, second, first, second]))
        assert [t.status_code for t in tries] == [401] * 4
        # ...so the fifth, on either process, locks the account on both.
        assert log_in(second, "wrong password").status_code == 401
        for process in (first, second):
            locked = log_in(process, PASSWORD)
            assert locked.status_code == 429, locked.text
            assert 1 <= int(locked.headers["Retry-After"]) <= 30


# --- CORS --------------------------------------------------------------------------------------

UI = "https://pager.example.com"


SERVICES = ("alert-ingestion", "incident-management", "oncall-service", "notification-service")


@pytest.mark.parametrize("service", SERVICES)
async def test_cors_admits_the_uis_origin_only(database_url, service):
    app = _apps(database_url)[service](ui_base_url=f"{UI}/")
    preflight = {"Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "Content-Type"}
    async with running_app(app, as_platform=False) as client:
        ui = await client.options("/health", headers={"Origin": UI, **preflight})
        ui_read = await client.get("/health", headers={"Origin": UI})
        other = await client.options("/health", headers={"Origin": "https://evil.example", **preflight})
        other_read = await client.get("/health", headers={"Origin": "https://evil.example"})
        lookalike = await client.get("/health", headers={"Origin": "https://pager.example.com.evil.example"})
    assert ui.status_code == 200
    assert ui.headers["access-control-allow-origin"] == UI
    assert ui.headers["access-control-allow-credentials"] == "true"
    assert ui_read.headers["access-control-allow-origin"] == UI
    # Another origin gets no grant: the browser keeps the answer from its script.
    assert other.status_code == 400
    for refused in (other, other_read, lookalike):
        assert "access-control-allow-origin" not in refused.headers


# --- the routes only the platform calls -------------------------------------------------------


def _apps(database_url: str) -> dict[str, Any]:
    """Every service's app, as deployed (their lifespans not run; built to be read or run in-process)."""
    common = {"environment": "test", "readiness_interval_seconds": 3600}

    def db(role: str) -> str:
        return as_service(database_url, role)

    return {
        "alert-ingestion": lambda **o: create_ingestion_app(
            IngestionSettings(**common, database_url=db("alert_ingestion"), incident_actions_worker_enabled=False, **o)
        ),
        "incident-management": lambda **o: create_incident_app(
            IncidentSettings(**common, database_url=db("incident_management"), incident_worker_enabled=False, **o)
        ),
        "oncall-service": lambda **o: create_oncall_app(
            OncallSettings(**common, database_url=db("oncall_service"), **o)
        ),
        "notification-service": lambda **o: create_notification_app(
            NotificationSettings(
                **common, database_url=db("notification_service"), notification_worker_enabled=False, **o
            )
        ),
    }


INCIDENT = {
    "id": "6f1c2a52-3b7e-4d55-9d0f-7f3f7b0c9a11",
    "title": "Checkout latency above 2s",
    "service": "checkout",
    "severity": "critical",
}
# Each platform-only route, with a request the platform would make and the answer
# that shows it got past the rule (the incident named does not exist: 404).
PLATFORM_ROUTES = {
    ("notification-service", "POST", "/api/v1/notify"): (
        "/api/v1/notify",
        {"event": "triggered", "incident": INCIDENT, "targets": [{"channel": "log", "target": "ops"}]},
        202,
    ),
    ("notification-service", "POST", "/api/v1/notify/batch"): (
        "/api/v1/notify/batch",
        {"items": [{"event": "triggered", "incident": INCIDENT, "targets": [{"channel": "log", "target": "ops"}]}]},
        200,
    ),
    ("incident-management", "POST", "/api/v1/incidents/batch"): (
        "/api/v1/incidents/batch",
        {"items": [{"title": "Checkout latency above 2s", "service": "checkout", "severity": "low"}]},
        200,
    ),
    ("incident-management", "POST", "/api/v1/incidents/{incident_id}/deliveries"): (
        f"/api/v1/incidents/{uuid.uuid4()}/deliveries",
        {"notification_id": str(uuid.uuid4()), "idempotency_key": "page-1", "status": "delivered"},
        404,
    ),
    ("incident-management", "POST", "/api/v1/incidents/deliveries/batch"): (
        "/api/v1/incidents/deliveries/batch",
        {
            "items": [
                {
                    "incident_id": str(uuid.uuid4()),
                    "notification_id": str(uuid.uuid4()),
                    "idempotency_key": "page-1",
                    "status": "delivered",
                }
            ]
        },
        200,
    ),
    ("incident-management", "POST", "/api/v1/incidents/{incident_id}/alert-joined"): (
        f"/api/v1/incidents/{uuid.uuid4()}/alert-joined",
        {"alert_id": str(uuid.uuid4())},
        404,
    ),
}


def test_the_platform_only_routes_are_the_ones_these_tests_call(database_url):
    found = set()
    for service, make in _apps(database_url).items():
        for context in iter_route_contexts(make().routes):  # included routers flattened
            route = context.original_route
            if isinstance(route, APIRoute) and any(rule.platform_only for rule in route_rules(route.dependant)):
                found |= {(service, method, context.path) for method in context.methods or ()}
    # A new platform-only route fails here until it gets a sample request below.
    assert found == set(PLATFORM_ROUTES)


@pytest.mark.parametrize("route", list(PLATFORM_ROUTES), ids=lambda r: f"{r[0]} {r[1]} {r[2]}")
async def test_a_platform_only_route_needs_the_internal_credential(clean_database, route):
    path, body, accepted_status = PLATFORM_ROUTES[route]
    _, admin = user_with_token(clean_database, "Ada Admin", role="admin")
    _, responder = user_with_token(clean_database, "Rob Responder")
    async with running_app(_apps(clean_database)[route[0]](), as_platform=False) as client:
        nothing = await client.post(path, json=body)
        wrong = await client.post(path, json=body, headers={"Authorization": "Bearer not-the-internal-credential"})
        as_admin = await client.post(path, json=body, headers=admin)
        as_responder = await client.post(path, json=body, headers=responder)
        as_platform = await client.post(path, json=body, headers=PLATFORM_HEADERS)

    assert nothing.status_code == 401
    assert nothing.headers["www-authenticate"] == "Bearer"
    assert wrong.status_code == 401
    # A user, whatever their role, is not the platform.
    assert as_admin.status_code == 403
    assert as_responder.status_code == 403
    assert as_admin.json()["detail"] == "Only the platform's own services may call this"
    assert as_platform.status_code == accepted_status, as_platform.text


def test_the_internal_credential_sent_is_the_first_listed():
    assert internal_headers(SecretStr("new,old")) == {"Authorization": "Bearer new"}
    assert internal_headers(SecretStr(" new , old ")) == {"Authorization": "Bearer new"}
    assert internal_headers(None) == {}


async def test_while_rotating_both_internal_credentials_are_accepted_and_after_only_the_new(clean_database):
    path, body, accepted_status = PLATFORM_ROUTES[
        ("incident-management", "POST", "/api/v1/incidents/{incident_id}/deliveries")
    ]
    make = _apps(clean_database)["incident-management"]

    async def answers(tokens: str) -> dict[str, int]:
        async with running_app(make(internal_tokens=tokens), as_platform=False) as client:
            return {
                token: (await client.post(path, json=body, headers={"Authorization": f"Bearer {token}"})).status_code
                for token in ("new", "old", "older")
            }

    assert await answers("new,old") == {"new": accepted_status, "old": accepted_status, "older": 401}
    assert await answers("new") == {"new": accepted_status, "old": 401, "older": 401}


# --- integration keys -------------------------------------------------------------------------


def _integration(process: ServiceProcess, admin: dict[str, str], service: str, type_: str = "generic") -> dict:
    with _client(process, **admin) as http:
        made = http.post("/api/v1/integrations", json={"name": f"{service} sender", "service": service, "type": type_})
    assert made.status_code == 201, made.text
    return made.json()


def _alert(service: str | None = "checkout", **extra: Any) -> dict[str, Any]:
    body = {"severity": "high", "message": "Checkout 5xx above 5%", **extra}
    return body | {"service": service} if service else body


def _event(routing_key: str | None, dedup_key: str = "checkout-5xx") -> dict[str, Any]:
    event = {
        "event_action": "trigger",
        "dedup_key": dedup_key,
        "payload": {"summary": "Checkout 5xx above 5%", "source": "prometheus", "severity": "critical"},
    }
    return event | {"routing_key": routing_key} if routing_key else event


def _bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


@pytest.mark.e2e
def test_alerts_need_an_integration_key_of_their_own_service(processes, clean_database):
    _, admin = user_with_token(clean_database, "Ada Admin", role="admin")
    checkout = _integration(processes.ingestion, admin, "checkout")
    payments = _integration(processes.ingestion, admin, "payments", "pagerduty")

    with _client(processes.ingestion) as http:
        no_key = http.post("/api/v1/alerts", json=_alert())
        # Neither a user's token (an admin's) nor the platform's credential is an integration key.
        as_admin = http.post("/api/v1/alerts", json=_alert(), headers=admin)
        as_platform = http.post("/api/v1/alerts", json=_alert(), headers=PLATFORM_HEADERS)
        other_service = http.post("/api/v1/alerts", json=_alert("payments"), headers=_bearer(checkout["key"]))
        pd_no_key = http.post("/v2/enqueue", json=_event(None))
        pd_unknown = http.post("/v2/enqueue", json=_event(uuid.uuid4().hex))
        stored_before = _alerts_of(processes.ingestion, admin)

        accepted = http.post("/api/v1/alerts", json=_alert(), headers=_bearer(checkout["key"]))
        # The key names the service: an alert need not repeat it.
        accepted_unnamed = http.post("/api/v1/alerts", json=_alert(None), headers=_bearer(checkout["key"]))
        pd_accepted = http.post("/v2/enqueue", json=_event(payments["key"]))

    assert no_key.status_code == 401
    assert "integration key is required" in no_key.json()["detail"]
    assert as_admin.status_code == 401
    assert as_platform.status_code == 401
    assert as_admin.json()["detail"] == "Unknown or revoked integration key"
    assert other_service.status_code == 403
    assert other_service.json()["detail"] == "This integration key sends alerts for service 'checkout' only"
    # PagerDuty's own answer to an event without a valid routing key: 400 "invalid event".
    assert pd_no_key.status_code == 400
    assert pd_no_key.json()["status"] == "invalid event"
    assert pd_no_key.json()["message"] == "Event object is invalid"
    assert any("routing_key" in error for error in pd_no_key.json()["errors"])
    assert pd_unknown.status_code == 400
    assert pd_unknown.json() == {
        "status": "invalid event",
        "message": "Event object is invalid",
        "errors": ["routing_key: unknown or revoked integration key"],
    }
    assert stored_before == []

    assert accepted.status_code == 202, accepted.text
    assert accepted_unnamed.status_code == 202, accepted_unnamed.text
    assert pd_accepted.status_code == 202, pd_accepted.text
    # Each stored alert records the integration it came through, and that integration's service.
    stored = {a["id"]: a for a in _alerts_of(processes.ingestion, admin)}
    assert {(a["integration_id"], a["service"], a["format"]) for a in stored.values()} == {
        (checkout["id"], "checkout", "generic"),
        (payments["id"], "payments", "pagerduty"),
    }
    assert stored[accepted.json()["alert_id"]]["integration_id"] == checkout["id"]
    assert stored[accepted_unnamed.json()["alert_id"]]["service"] == "checkout"
    # The unnamed one repeats the first (same service, message): counted on its row.
    assert accepted_unnamed.json()["alert_id"] == accepted.json()["alert_id"]
    assert stored[accepted.json()["alert_id"]]["trigger_count"] == 2
    assert len(stored) == 2


def _alerts_of(process: ServiceProcess, viewer: dict[str, str]) -> list[dict[str, Any]]:
    with _client(process, **viewer) as http:
        page = http.get("/api/v1/alerts", params={"limit": 500})
    assert page.status_code == 200, page.text
    return page.json()["items"]


@pytest.mark.e2e
def test_a_revoked_integration_key_is_refused_by_every_ingestion_process(processes, clean_database, record_property):
    _, admin = user_with_token(clean_database, "Ada Admin", role="admin")
    integration = _integration(processes.ingestion, admin, "checkout")
    key = _bearer(integration["key"])
    senders = {"ingestion": processes.ingestion, "ingestion_b": processes.ingestion_b}
    for name, process in senders.items():  # each process now has the key cached as valid
        with _client(process, **key) as http:
            assert http.post("/api/v1/alerts", json=_alert()).status_code == 202, name

    with _client(processes.ingestion, **admin) as http:
        revoked = http.delete(f"/api/v1/integrations/{integration['id']}")
    since = time.monotonic()
    assert revoked.status_code == 204, revoked.text
    # The process that revoked it forgets at once: its very next answer is a refusal.
    with _client(processes.ingestion, **key) as http:
        assert http.post("/api/v1/alerts", json=_alert()).status_code == 401

    took: dict[str, float] = {}
    bound = INTEGRATION_CACHE_SECONDS + 2.0
    while len(took) < len(senders) and time.monotonic() < since + bound + 5:
        for name, process in senders.items():
            if name not in took:
                with _client(process, **key) as http:
                    if http.post("/api/v1/alerts", json=_alert()).status_code == 401:
                        took[name] = time.monotonic() - since
        time.sleep(0.05)

    assert set(took) == set(senders), f"a revoked key still accepted: {took}"
    record_property("seconds_until_refused", took)
    assert max(took.values()) < bound, took
    for name, process in senders.items():
        with _client(process) as http:
            refused = http.post("/v2/enqueue", json=_event(integration["key"]))
        assert refused.status_code == 400, name
        assert refused.json()["errors"] == ["routing_key: unknown or revoked integration key"], name
    listed = _alerts_of(processes.ingestion, admin)
    assert all(a["integration_id"] == integration["id"] for a in listed)


# --- limits -----------------------------------------------------------------------------------


@asynccontextmanager
async def ingestion(processes: Processes, database_url: str, **overrides: Any) -> AsyncIterator[Any]:
    """alert-ingestion in-process (its limits set here), incidents opened by the real incident-management."""
    app = _apps(database_url)["alert-ingestion"](
        incident_service_url=processes.incidents.url, integration_cache_seconds=0, **overrides
    )
    async with running_app(app, as_platform=False) as client:
        client.app = app  # type: ignore[attr-defined]
        yield client


async def _new_key(client: httpx.AsyncClient, service: str = "checkout", type_: str = "generic") -> str:
    made = await client.post(
        "/api/v1/integrations",
        json={"name": f"{service} {uuid.uuid4().hex[:6]}", "service": service, "type": type_},
        headers=PLATFORM_HEADERS,
    )
    assert made.status_code == 201, made.text
    return made.json()["key"]


def _retry_after(response: httpx.Response) -> int:
    seconds = int(response.headers["retry-after"])  # whole seconds, as the header wants
    assert seconds > 0
    return seconds


async def _stored(client: httpx.AsyncClient) -> int:
    return (await client.get("/api/v1/alerts", headers=PLATFORM_HEADERS)).json()["total"]


async def test_a_keys_rate_limit_covers_both_sender_routes_and_spares_other_keys(processes, clean_database):
    async with ingestion(processes, clean_database, rate_limit_per_minute=3) as client:
        key, other = await _new_key(client), await _new_key(client)
        sent = [
            (await client.post("/api/v1/alerts", json=_alert(dedup_key="a"), headers=_bearer(key))).status_code,
            (await client.post("/v2/enqueue", json=_event(key, "b"))).status_code,
            (await client.post("/api/v1/alerts", json=_alert(dedup_key="c"), headers=_bearer(key))).status_code,
        ]
        generic_over = await client.post("/api/v1/alerts", json=_alert(dedup_key="d"), headers=_bearer(key))
        pagerduty_over = await client.post("/v2/enqueue", json=_event(key, "e"))
        other_key = await client.post("/api/v1/alerts", json=_alert(dedup_key="f"), headers=_bearer(other))
        stored = await _stored(client)

    assert sent == [202, 202, 202]
    assert generic_over.status_code == 429
    assert generic_over.json()["detail"] == "Too many alerts for this integration; retry later"
    assert generic_over.json()["retry_after_seconds"] == _retry_after(generic_over)
    assert pagerduty_over.status_code == 429
    assert pagerduty_over.json()["status"] == "throttle event"
    _retry_after(pagerduty_over)
    assert other_key.status_code == 202
    assert stored == 4  # nothing of the refused ones


async def test_a_clients_rate_limit_holds_whatever_keys_it_sends_and_spares_other_clients(processes, clean_database):
    async with ingestion(
        processes, clean_database, rate_limit_per_minute=0, rate_limit_per_client_per_minute=3
    ) as client:
        keys = [await _new_key(client) for _ in range(4)]
        sent = [
            (await client.post("/api/v1/alerts", json=_alert(dedup_key=k), headers=_bearer(k))).status_code
            for k in keys[:3]
        ]
        # A fresh key does not help: the limit is the address's.
        generic_over = await client.post("/api/v1/alerts", json=_alert(), headers=_bearer(keys[3]))
        pagerduty_over = await client.post("/v2/enqueue", json=_event(keys[3]))
        no_key_over = await client.post("/api/v1/alerts", json=_alert())

        other_address = httpx.AsyncClient(
            transport=httpx.ASGITransport(app=client.app, client=("192.0.2.7", 40000)), base_url="http://testserver"
        )
        async with other_address:
            elsewhere = await other_address.post("/api/v1/alerts", json=_alert(), headers=_bearer(keys[3]))
        stored = await _stored(client)

    assert sent == [202, 202, 202]
    assert generic_over.status_code == 429
    assert generic_over.json()["detail"] == "Too many alerts from this address; retry later"
    assert generic_over.json()["retry_after_seconds"] == _retry_after(generic_over)
    assert pagerduty_over.status_code == 429
    assert pagerduty_over.json()["status"] == "throttle event"
    _retry_after(pagerduty_over)
    assert no_key_over.status_code == 429  # throttled before the key is even looked at
    assert elsewhere.status_code == 202
    assert stored == 4


async def test_a_client_trying_keys_is_throttled_by_its_address(processes, clean_database):
    async with ingestion(processes, clean_database, rate_limit_per_client_per_minute=3) as client:
        guesses = [
            (await client.post("/api/v1/alerts", json=_alert(), headers=_bearer(uuid.uuid4().hex))).status_code
            for _ in range(5)
        ]
        pagerduty_guess = await client.post("/v2/enqueue", json=_event(uuid.uuid4().hex))

    # Refused guesses count too: a scanner gets three tries a minute here, then waits.
    assert guesses == [401, 401, 401, 429, 429]
    assert pagerduty_guess.status_code == 429
    _retry_after(pagerduty_guess)


def _chunks(size: int) -> Iterator[bytes]:
    yield b'{"severity": "high", "message": "'
    for _ in range(size // 1024):
        yield b"x" * 1024
    yield b'"}'


@pytest.mark.e2e
def test_a_body_over_max_body_bytes_is_a_json_413_on_every_service(processes, clean_database):
    _, admin = user_with_token(clean_database, "Ada Admin", role="admin")
    key = _integration(processes.ingestion, admin, "checkout")["key"]
    big = "x" * (MAX_BODY + 1)
    with _client(processes.ingestion) as http:
        alert = http.post("/api/v1/alerts", json=_alert(message=big), headers=_bearer(key))
        # Without a declared length (chunked): counted as it arrives.
        streamed = http.post(
            "/api/v1/alerts",
            content=_chunks(MAX_BODY * 2),
            headers=_bearer(key) | {"Content-Type": "application/json"},
        )
        event = _event(key) | {"payload": {"summary": "s", "source": "h", "severity": "info", "x": big}}
        pagerduty = http.post("/v2/enqueue", json=event)
    with _client(processes.oncall, **admin) as http:
        user = http.post("/api/v1/users", json={"name": big, "email": "big@example.com"})
        user_streamed = http.post(
            "/api/v1/users", content=_chunks(MAX_BODY * 2), headers={"Content-Type": "application/json"}
        )
        small = http.post("/api/v1/users", json={"name": "Small", "email": "small@example.com"})

    for name, response in {
        "alerts": alert,
        "alerts, streamed": streamed,
        "v2/enqueue": pagerduty,
        "users": user,
        "users, streamed": user_streamed,
    }.items():
        assert response.status_code == 413, f"{name}: {response.status_code} {response.text[:200]}"
        assert response.headers["content-type"] == "application/json", name
        assert response.json() == {"detail": f"Request body exceeds {MAX_BODY} bytes"}, name
    assert small.status_code == 201, small.text
    assert _alerts_of(processes.ingestion, admin) == []


# --- notification-service and its own network ------------------------------------------------


@dataclass
class Receiver:
    """A webhook receiver on loopback, recording what reaches it; with
    `redirect_to` it answers 302 to that URL instead."""

    received: list[str] = field(default_factory=list)
    redirect_to: str | None = None

    def __post_init__(self) -> None:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                self.rfile.read(int(self.headers.get("Content-Length", 0)))
                receiver.received.append(self.path)
                if receiver.redirect_to:
                    self.send_response(302)
                    self.send_header("Location", f"{receiver.redirect_to}{self.path}")
                else:
                    self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def do_GET(self) -> None:  # what a followed 302 turns a POST into
                receiver.received.append(self.path)
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *_args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
        self.port = self.server.server_port


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    found = Receiver()
    yield found
    found.server.shutdown()
    found.server.server_close()


@asynccontextmanager
async def notifications(database_url: str, **overrides: Any) -> AsyncIterator[httpx.AsyncClient]:
    settings = NotificationSettings(
        environment="test",
        database_url=as_service(database_url, "notification_service"),
        readiness_interval_seconds=3600,
        notification_poll_seconds=0.05,
        notification_retry_base_seconds=0.2,
        notification_retry_max_seconds=1.0,
        notification_http_timeout_seconds=2.0,
        notification_lease_seconds=5.0,
        smtp_timeout_seconds=2.0,
        notification_max_attempts=3,
        **overrides,
    )
    async with running_app(create_notification_app(settings)) as client:
        yield client


async def _page(client: httpx.AsyncClient, targets: list[tuple[str, str]]) -> list[dict[str, Any]]:
    accepted = await client.post(
        "/api/v1/notify",
        json={"event": "triggered", "incident": INCIDENT, "targets": [{"channel": c, "target": t} for c, t in targets]},
    )
    assert accepted.status_code == 202, accepted.text
    return accepted.json()["notifications"]


async def _settled(client: httpx.AsyncClient, notification_id: str, within: float = 10.0) -> dict[str, Any]:
    deadline = time.monotonic() + within
    while True:
        row = (await client.get(f"/api/v1/notifications/{notification_id}")).json()
        if row["status"] in ("delivered", "failed") or time.monotonic() > deadline:
            return row
        await asyncio.sleep(0.05)


def _inside_the_network(port: int) -> list[tuple[str, str]]:
    return [
        ("webhook", f"http://127.0.0.1:{port}/hook"),
        ("webhook", f"http://localhost:{port}/hook"),
        ("webhook", f"http://[::1]:{port}/hook"),
        ("webhook", "http://10.20.30.40/hook"),
        ("webhook", "http://169.254.169.254/latest/meta-data/"),
        ("slack", "http://192.168.1.10/services/T000/B000/x"),
    ]


async def test_pages_to_loopback_private_and_metadata_addresses_are_refused_when_public_targets_only(
    clean_database, receiver
):
    async with notifications(clean_database, notification_public_targets_only=True) as client:
        accepted = await _page(client, _inside_the_network(receiver.port))
        rows = {n["target"]: await _settled(client, n["id"]) for n in accepted}

    assert set(rows) == {target for _, target in _inside_the_network(receiver.port)}
    for row in rows.values():
        # Failed for good on the first try, with the reason, and never called.
        assert row["status"] == "failed", row
        assert row["attempts"] == 1, row
        assert "resolves to a non-public address" in row["last_error"], row
        assert row["attempt_history"][0]["response_status"] is None, row
    assert rows["http://169.254.169.254/latest/meta-data/"]["last_error"] == (
        "target 169.254.169.254 resolves to a non-public address (169.254.169.254); refused"
    )
    assert receiver.received == []


@pytest.mark.parametrize("setting", [False, None], ids=["off", "unset in a test run"])
async def test_pages_to_loopback_are_delivered_when_public_targets_only_is_off(clean_database, receiver, setting):
    async with notifications(clean_database, notification_public_targets_only=setting) as client:
        [notification] = await _page(client, [("webhook", f"http://127.0.0.1:{receiver.port}/hook")])
        row = await _settled(client, notification["id"])

    assert row["status"] == "delivered", row
    assert receiver.received == ["/hook"]


@pytest.mark.e2e
def test_a_page_is_not_redirected_into_the_network(clean_database, receiver):
    # The receiver the user named answers 302 to a loopback address of the platform's network.
    redirecting = Receiver(redirect_to=f"http://127.0.0.1:{receiver.port}/stolen")
    env = {
        "DATABASE_URL": clean_database,
        "ENVIRONMENT": "test",
        "LOG_LEVEL": "WARNING",
        "NOTIFICATION_WEBHOOK_SECRET": "e2e-secret",
        "NOTIFICATION_POLL_SECONDS": "0.1",
        "NOTIFICATION_MAX_ATTEMPTS": "1",
    }
    targets = [
        ("webhook", f"http://127.0.0.1:{redirecting.port}/hook"),
        ("slack", f"http://127.0.0.1:{redirecting.port}/slack"),
    ]
    try:
        with (
            ServiceProcess("notification_service", env) as service,
            httpx.Client(base_url=service.url, headers=PLATFORM_HEADERS, timeout=10) as http,
        ):
            to = [{"channel": channel, "target": target} for channel, target in targets]
            accepted = http.post("/api/v1/notify", json={"event": "triggered", "incident": INCIDENT, "targets": to})
            assert accepted.status_code == 202, accepted.text

            def final() -> list[dict[str, Any]] | None:
                rows = [http.get(f"/api/v1/notifications/{n['id']}").json() for n in accepted.json()["notifications"]]
                return rows if all(r["status"] in ("delivered", "failed") for r in rows) else None

            rows = wait_for(final)
    finally:
        redirecting.server.shutdown()
        redirecting.server.server_close()
    # Each was sent once, answered 302, and failed for good there: the redirect was not followed.
    assert sorted(redirecting.received) == ["/hook", "/slack"]
    for row in rows:
        assert row["status"] == "failed", row
        assert [a["response_status"] for a in row["attempt_history"]] == [302], row
    assert receiver.received == []


def test_public_targets_only_is_on_by_default_outside_local_and_test_runs(database_url):
    production = {
        "database_url": database_url,
        "internal_tokens": "internal-token-of-the-ssrf-settings-test",
        "notification_webhook_secret": "webhook-secret-of-the-ssrf-settings-test",
    }
    assert NotificationSettings(environment="prod", **production).public_targets_only is True
    assert NotificationSettings(environment="dev", **production).public_targets_only is True
    assert NotificationSettings(environment="local").public_targets_only is False
    assert (
        NotificationSettings(
            environment="prod", notification_public_targets_only=False, **production
        ).public_targets_only
        is False
    )
