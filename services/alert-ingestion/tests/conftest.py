"""Fixtures of alert-ingestion's tests: a stand-in incident-management served
over real HTTP against the shared test database (the agreed POST/PATCH
shapes), the app in-process, and integration keys."""

import asyncio
import threading
import time
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
import uvicorn
from fastapi import FastAPI, Response
from fastapi.responses import JSONResponse
from sqlalchemy import create_engine, insert, select, text, update
from sqlalchemy.engine import Engine

from alert_ingestion.config import Settings
from alert_ingestion.db.models import incident_timeline, incidents
from alert_ingestion.main import create_app
from platform_common.clock import Clock
from platform_common.testing import _sync_url, free_port, running_app

TRANSITIONS = {
    "open": {"acknowledged", "in_progress", "resolved"},
    "acknowledged": {"in_progress", "resolved"},
    "in_progress": {"resolved"},
    "resolved": set(),
}


class FakeIncidentService:
    """incident-management's POST/PATCH as agreed, writing the shared tables.
    `mode` makes it misbehave: "up", "error" (503 to everything), "slow"."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.mode = "up"
        self.delay = 0.0
        self.calls: list[tuple[str, str, dict[str, Any]]] = []
        self.port = free_port()
        self.server: uvicorn.Server | None = None
        self.thread: threading.Thread | None = None
        self.app = self._build()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def _build(self) -> FastAPI:
        app = FastAPI()

        @app.get("/health")
        def health() -> dict[str, str]:
            return {"status": "ok"}

        @app.post("/api/v1/incidents")
        def create(body: dict[str, Any]) -> Response:
            self.calls.append(("POST", "/api/v1/incidents", body))
            if failure := self._misbehave():
                return failure
            now = datetime.now(UTC)
            incident_id = uuid.UUID(body["id"])
            with self.engine.begin() as conn:
                if conn.execute(select(incidents.c.id).where(incidents.c.id == incident_id)).first():
                    return JSONResponse({"id": body["id"]}, 200)
                conn.execute(
                    insert(incidents).values(
                        id=incident_id,
                        title=body["title"],
                        description=body.get("description", ""),
                        service=body["service"],
                        severity=body["severity"],
                        status="open",
                        alert_count=body.get("alert_count", 0),
                        created_at=now,
                        updated_at=now,
                    )
                )
                conn.execute(
                    insert(incident_timeline).values(
                        incident_id=incident_id,
                        event_type="created",
                        actor="api",
                        message="created",
                        data={},
                        created_at=now,
                    )
                )
            return JSONResponse({"id": body["id"]}, 201)

        @app.patch("/api/v1/incidents/{incident_id}")
        def patch(incident_id: uuid.UUID, body: dict[str, Any]) -> Response:
            self.calls.append(("PATCH", f"/api/v1/incidents/{incident_id}", body))
            if failure := self._misbehave():
                return failure
            now = datetime.now(UTC)
            with self.engine.begin() as conn:
                status = conn.execute(select(incidents.c.status).where(incidents.c.id == incident_id)).scalar()
                if status is None:
                    return Response('{"detail": "not found"}', 404, media_type="application/json")
                if body["status"] not in TRANSITIONS[status]:
                    return JSONResponse({"detail": "illegal move", "current_status": status}, 409)
                stamp = "resolved_at" if body["status"] == "resolved" else "acknowledged_at"
                conn.execute(
                    update(incidents)
                    .where(incidents.c.id == incident_id)
                    .values({"status": body["status"], stamp: now, "updated_at": now})
                )
            return JSONResponse({"id": str(incident_id)}, 200)

        return app

    def _misbehave(self) -> Response | None:
        if self.mode == "error":
            return Response('{"detail": "down"}', 503, media_type="application/json")
        if self.mode == "slow":
            time.sleep(self.delay)
        return None

    def start(self) -> None:
        config = uvicorn.Config(self.app, host="127.0.0.1", port=self.port, log_config=None, lifespan="off")
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)
        self.thread.start()
        deadline = time.monotonic() + 10
        while not self.server.started:
            if time.monotonic() > deadline:
                raise RuntimeError("fake incident-management did not start")
            time.sleep(0.02)

    def stop(self) -> None:
        if self.server:
            self.server.should_exit = True
        if self.thread:
            self.thread.join(10)
        self.server = self.thread = None

    def reset(self) -> None:
        self.mode = "up"
        self.delay = 0.0
        self.calls.clear()


@pytest.fixture(scope="session")
def db_engine(database_url: str) -> Iterator[Engine]:
    engine = create_engine(_sync_url(database_url))
    yield engine
    engine.dispose()


@pytest.fixture(scope="session")
def incident_service_session(db_engine: Engine) -> Iterator[FakeIncidentService]:
    fake = FakeIncidentService(db_engine)
    fake.start()
    yield fake
    fake.stop()


@pytest.fixture
def incident_service(incident_service_session: FakeIncidentService) -> Iterator[FakeIncidentService]:
    """Up at the start of each test (a test may stop it), in its normal mode."""
    fake = incident_service_session
    if fake.server is None:
        fake.start()
    fake.reset()
    yield fake
    if fake.server is None:
        fake.start()
    fake.reset()


def settings_for(database_url: str, incident_url: str, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "environment": "test",
        "database_url": database_url,
        "incident_service_url": incident_url,
        "incident_actions_interval_seconds": 0.2,
        "integration_cache_seconds": 0,
        "readiness_interval_seconds": 60,
        "incident_create_timeout_seconds": 1.0,
        "http_retries": 0,
    }
    return Settings(**(values | overrides))


@pytest.fixture
def make_client(clean_database: str, incident_service: FakeIncidentService) -> Callable[..., Any]:
    """`async with make_client(**settings) as client:` the app running in-process."""

    @asynccontextmanager
    async def factory(clock: Clock | None = None, **overrides: Any) -> AsyncIterator[httpx.AsyncClient]:
        app = create_app(settings_for(clean_database, incident_service.url, **overrides), clock=clock)
        async with running_app(app) as client:
            client.app = app  # type: ignore[attr-defined]
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


@pytest.fixture
def wait_for() -> Callable[..., Any]:
    return eventually
