"""Fixtures of alert-ingestion's tests: the real incident-management app served
over real HTTP against the shared test database (behind a thin wrapper that
records calls and can make it fail or slow down), the app in-process, and
integration keys."""

import asyncio
import json
import threading
import time
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest
import uvicorn
from sqlalchemy import create_engine, text
from sqlalchemy.engine import Engine

from alert_ingestion.config import Settings
from alert_ingestion.main import create_app
from alert_ingestion.usecases import integrations
from incident_management.config import Settings as IncidentSettings
from incident_management.main import create_app as create_incident_app
from platform_common.clock import Clock
from platform_testing import PLATFORM_HEADERS, _sync_url, as_service, free_port, running_app

Scope = dict[str, Any]
Message = dict[str, Any]
Receive = Callable[[], Any]
Send = Callable[[Message], Any]


class IncidentService:
    """The real incident-management (its API, its database functions, no engine
    loop: oncall and notification are left unreachable), served by uvicorn in a
    thread. A pure-ASGI wrapper in front keeps the test hooks: `calls` records
    (method, path, JSON body) of every /api/ request; `mode` makes it
    misbehave: "up", "error" (503 to every /api/ request) or "slow" (waits
    `delay` seconds, then serves the request for real)."""

    def __init__(self, database_url: str) -> None:
        self.database_url = database_url
        self.mode = "up"
        self.delay = 0.0
        self.calls: list[tuple[str, str, Any]] = []
        # (method, path, status) of the /api/ requests answered, in the order they finished.
        self.answered: list[tuple[str, str, int]] = []
        self.port = free_port()
        self.nowhere = f"http://127.0.0.1:{free_port()}"  # a closed port: oncall and notification are down
        self.app: Any = None
        self.server: uvicorn.Server | None = None
        self.thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def settings(self) -> IncidentSettings:
        return IncidentSettings(
            environment="test",
            database_url=as_service(self.database_url, "incident_management"),
            oncall_service_url=self.nowhere,
            notification_service_url=self.nowhere,
            incident_worker_enabled=False,
            readiness_interval_seconds=60,
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope["path"].startswith("/api/"):
            await self.app(scope, receive, send)
            return
        chunks = []
        while True:
            message = await receive()
            if message["type"] != "http.request":  # the client went away
                return
            chunks.append(message.get("body", b""))
            if not message.get("more_body"):
                break
        body = b"".join(chunks)
        try:
            parsed = json.loads(body) if body else None
        except ValueError:
            parsed = body
        method, path = scope["method"], scope["path"]
        self.calls.append((method, path, parsed))

        async def replay() -> Message:
            nonlocal body
            if body is not None:
                message, body = {"type": "http.request", "body": body, "more_body": False}, None
                return message
            return await receive()

        async def record(message: Message) -> None:
            if message["type"] == "http.response.start":
                self.answered.append((method, path, message["status"]))
            await send(message)

        if self.mode == "error":
            headers = [(b"content-type", b"application/json")]
            await record({"type": "http.response.start", "status": 503, "headers": headers})
            await send({"type": "http.response.body", "body": b'{"detail": "down"}'})
            return
        if self.mode == "slow":
            await asyncio.sleep(self.delay)
        await self.app(scope, replay, record)

    def start(self) -> None:
        # A new app each time: its database pool belongs to the event loop of the server's thread.
        self.app = create_incident_app(self.settings())
        config = uvicorn.Config(self, host="127.0.0.1", port=self.port, log_config=None, lifespan="on")
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)
        self.thread.start()
        deadline = time.monotonic() + 20
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("incident-management did not start")
            time.sleep(0.02)

    def stop(self) -> None:
        if self.server:
            self.server.should_exit = True
        if self.thread:
            self.thread.join(20)
        self.server = self.thread = None

    def reset(self) -> None:
        self.mode = "up"
        self.delay = 0.0
        self.calls.clear()
        self.answered.clear()

    def settle(self, within: float = 20.0) -> None:
        """Wait until every /api/ request received has been answered (a slow
        mode's late calls must not land in the next test's database)."""
        deadline = time.monotonic() + within
        while len(self.answered) < len(self.calls) and time.monotonic() < deadline:
            time.sleep(0.02)

    def sent(self, method: str | None = None) -> list[tuple[str, str, Any]]:
        """The calls that change something (POST, PATCH), or those of one method."""
        return [c for c in self.calls if (c[0] == method if method else c[0] != "GET")]

    async def incident(self, incident_id: str | uuid.UUID) -> dict[str, Any] | None:
        """GET /api/v1/incidents/{id} through the real API (alert_count, alerts, timeline): None while absent."""
        async with httpx.AsyncClient(timeout=10, headers=PLATFORM_HEADERS) as http:
            response = await http.get(f"{self.url}/api/v1/incidents/{incident_id}")
        if response.status_code == 404:
            return None
        response.raise_for_status()
        return response.json()

    async def incident_eventually(self, incident_id: str | uuid.UUID, within: float = 10.0) -> dict[str, Any]:
        """The incident once it is open: ingestion opens it just after its 202."""
        found = await eventually_async(lambda: self.incident(incident_id), within=within)
        assert found is not None, f"incident {incident_id} was not opened within {within} s"
        return found


@pytest.fixture(scope="session")
def db_engine(database_url: str) -> Iterator[Engine]:
    engine = create_engine(_sync_url(database_url))
    yield engine
    engine.dispose()


@pytest.fixture(scope="session")
def incident_service_session(database_url: str) -> Iterator[IncidentService]:
    service = IncidentService(database_url)
    service.start()
    yield service
    service.stop()


@pytest.fixture
def incident_service(incident_service_session: IncidentService, clean_database: str) -> Iterator[IncidentService]:
    """Up at the start of each test (a test may stop it), in its normal mode."""
    service = incident_service_session
    if service.server is None:
        service.start()
    service.reset()
    yield service
    if service.server is None:
        service.start()
    service.settle()
    service.reset()


def settings_for(database_url: str, incident_url: str, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "environment": "test",
        "database_url": as_service(database_url, "alert_ingestion"),
        "incident_service_url": incident_url,
        "incident_actions_interval_seconds": 0.2,
        "integration_cache_seconds": 0,
        "readiness_interval_seconds": 60,
        "incident_create_timeout_seconds": 1.0,
    }
    return Settings(**(values | overrides))


def sender_keys(app: Any) -> Callable[[httpx.Request], Any]:
    """An httpx request hook: senders need an integration key, and a key speaks
    for one service, so the suite's client sends each generic alert with a key
    of the service its body names (an integration made on first use). Only
    requests still carrying the client's platform credential are changed: a
    test that sets Authorization itself (a wrong key, none) keeps it."""
    keys: dict[str, str] = {}

    async def hook(request: httpx.Request) -> None:
        if request.method != "POST" or request.url.path != "/api/v1/alerts":
            return
        if request.headers.get("authorization") != PLATFORM_HEADERS["Authorization"]:
            return
        try:
            service = json.loads(request.content).get("service")
        except (ValueError, AttributeError):
            return
        if not isinstance(service, str) or not service.strip():
            return
        if service not in keys:
            async with app.state.db.sessionmaker() as session, session.begin():
                _, keys[service] = await integrations.create(
                    session, name=f"{service} test sender", service=service, type_="generic", now=app.state.clock.now()
                )
        request.headers["Authorization"] = f"Bearer {keys[service]}"

    return hook


@pytest.fixture
def make_client(clean_database: str, incident_service: IncidentService) -> Callable[..., Any]:
    """`async with make_client(**settings) as client:` the app running in-process,
    alerts sent with their service's key (sender_keys)."""

    @asynccontextmanager
    async def factory(clock: Clock | None = None, **overrides: Any) -> AsyncIterator[httpx.AsyncClient]:
        app = create_app(settings_for(clean_database, incident_service.url, **overrides), clock=clock)
        async with running_app(app) as client:
            client.app = app  # type: ignore[attr-defined]
            client.event_hooks["request"].append(sender_keys(app))
            yield client

    return factory


@pytest.fixture
async def client(make_client: Callable[..., Any]) -> AsyncIterator[httpx.AsyncClient]:
    async with make_client() as client:
        yield client


async def new_integration(client: httpx.AsyncClient, service: str = "checkout", type_: str = "pagerduty") -> str:
    response = await client.post(
        "/api/v1/integrations", json={"name": f"{service} {type_}", "service": service, "type": type_}
    )
    assert response.status_code == 201, response.text
    return response.json()["key"]


@pytest.fixture
def integration_key() -> Callable[..., Any]:
    return new_integration


# Incidents with the number of alerts ingestion attached to each, counted from
# the alerts table, repeats included (what incident-management reports as alert_count).
INCIDENTS = (
    "SELECT * FROM (SELECT i.*, (SELECT coalesce(sum(a.trigger_count), 0) FROM alerts a WHERE a.incident_id = i.id)"
    " AS alert_count"
    " FROM incidents i) incidents"
)


class Db:
    """Reads of the shared tables, as a test checks them."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def rows(self, sql: str, **params: Any) -> list[Any]:
        with self.engine.connect() as conn:
            return list(conn.execute(text(sql), params))

    def scalar(self, sql: str, **params: Any) -> Any:
        with self.engine.connect() as conn:
            return conn.execute(text(sql), params).scalar()

    def incidents(self, where: str = "TRUE", **params: Any) -> list[Any]:
        """Incidents (each with its alert_count) matching `where`, oldest first."""
        return self.rows(f"{INCIDENTS} WHERE {where} ORDER BY created_at, id", **params)

    def incident(self, incident_id: str | uuid.UUID) -> Any:
        """One incident with its alert_count, or None (not opened yet)."""
        found = self.incidents("id = :id", id=uuid.UUID(str(incident_id)))
        return found[0] if found else None

    async def incident_eventually(self, incident_id: str | uuid.UUID, within: float = 10.0) -> Any:
        """The incident once opened (just after the 202 that named its id)."""
        found = await eventually(lambda: self.incident(incident_id), within=within)
        assert found is not None, f"incident {incident_id} was not opened within {within} s"
        return found

    async def all_incidents_opened(self, within: float = 10.0) -> list[Any]:
        """Every incident the alerts name, once all are opened (none is still being opened)."""
        missing = (
            "SELECT count(DISTINCT a.incident_id) FROM alerts a"
            " WHERE a.incident_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM incidents i WHERE i.id = a.incident_id)"
        )
        assert await eventually(lambda: self.scalar(missing) == 0, within=within), "incidents still not opened"
        return self.incidents()


@pytest.fixture
def db(db_engine: Engine, clean_database: str) -> Db:
    return Db(db_engine)


async def eventually(check: Callable[[], Any], within: float = 5.0) -> Any:
    """Poll `check` until it returns something truthy (background sends)."""
    deadline = time.monotonic() + within
    while True:
        result = check()
        if result or time.monotonic() > deadline:
            return result
        await asyncio.sleep(0.05)


async def eventually_async(check: Callable[[], Any], within: float = 5.0) -> Any:
    """`eventually` for a check that is a coroutine function."""
    deadline = time.monotonic() + within
    while True:
        result = await check()
        if result or time.monotonic() > deadline:
            return result
        await asyncio.sleep(0.05)


@pytest.fixture
def wait_for() -> Callable[..., Any]:
    return eventually
