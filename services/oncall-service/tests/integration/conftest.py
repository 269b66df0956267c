"""The on-call API in-process against the test database."""

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from oncall_service.config import Settings
from oncall_service.main import create_app
from platform_common.clock import ManualClock
from platform_testing import as_service, free_port, running_app


class Api:
    """Shortcuts for building fixtures through the public API, failing loudly."""

    def __init__(self, client: httpx.AsyncClient) -> None:
        self.client = client

    async def post(self, path: str, body: dict[str, Any], expected: int = 201) -> dict[str, Any]:
        response = await self.client.post(path, json=body)
        assert response.status_code == expected, response.text
        return response.json()

    async def user(self, name: str, **extra: Any) -> dict[str, Any]:
        return await self.post("/api/v1/users", {"name": name, "email": f"{name.lower()}@example.com", **extra})

    async def users(self, *names: str) -> list[str]:
        return [(await self.user(name))["id"] for name in names]

    async def schedule(self, name: str, timezone: str, layers: list[dict[str, Any]], **extra: Any) -> dict[str, Any]:
        return await self.post("/api/v1/schedules", {"name": name, "timezone": timezone, "layers": layers, **extra})

    async def shifts(self, schedule_id: str, start: str, end: str) -> dict[str, Any]:
        response = await self.client.get(f"/api/v1/schedules/{schedule_id}/shifts", params={"from": start, "to": end})
        assert response.status_code == 200, response.text
        return response.json()


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(datetime(2026, 3, 1, 12, tzinfo=UTC))


@pytest.fixture
def app(clean_database: str, clock: ManualClock) -> FastAPI:
    return create_app(
        # The shift-notice loop is driven by hand in its own tests (run_once).
        Settings(
            database_url=as_service(clean_database, "oncall_service"),
            environment="test",
            oncall_notice_enabled=False,
            # Test pages go nowhere: a closed port, so they answer 503 at once.
            notification_service_url=f"http://127.0.0.1:{free_port()}",
            http_timeout_seconds=1,
        ),
        clock=clock,
    )


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    async with running_app(app) as http:
        # Let the readiness monitor's first database ping finish rather than
        # cancel it mid-flight at shutdown.
        for _ in range(500):
            if "database" in app.state.monitor.results:
                break
            await asyncio.sleep(0.01)
        yield http


@pytest.fixture
def api(client: httpx.AsyncClient) -> Api:
    return Api(client)
