"""Liveness and readiness. A service serves even while a dependency is down, and says so."""

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import httpx
from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from pydantic import BaseModel

from platform_common.auth import OPEN

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Check:
    """One dependency. A `critical` one down makes the service not ready (503);
    a non-critical one down only makes it `degraded` (the service has a fallback)."""

    name: str
    probe: Callable[[], Awaitable[None]]
    critical: bool = True


@dataclass
class CheckResult:
    """A dependency's last check: status, latency, last error."""

    status: str
    critical: bool
    latency_ms: float
    checked_at: str
    error: str | None = None


def http_probe(client: httpx.AsyncClient, url: str) -> Callable[[], Awaitable[None]]:
    """A probe that calls another service's liveness endpoint once, without retries."""

    async def probe() -> None:
        response = await client.get(url)
        response.raise_for_status()

    return probe


class DependencyMonitor:
    """Checks every dependency now and then in the background so that a dependency
    coming back is noticed without a restart; readiness re-checks on demand."""

    def __init__(self, checks: list[Check], *, interval: float, timeout: float = 2.0) -> None:
        self.checks = checks
        self.interval = interval
        self.timeout = timeout
        self.results: dict[str, CheckResult] = {}
        self._task: asyncio.Task[None] | None = None
        self._stopping = asyncio.Event()

    async def _run(self, check: Check) -> CheckResult:
        started = time.perf_counter()
        error = None
        try:
            await asyncio.wait_for(check.probe(), self.timeout)
        except Exception as exc:  # any failure means "down"; the reason is reported
            error = f"{type(exc).__name__}: {exc}"[:300]
        result = CheckResult(
            status="down" if error else "up",
            critical=check.critical,
            latency_ms=round((time.perf_counter() - started) * 1000, 2),
            checked_at=datetime.now(UTC).isoformat(),
            error=error,
        )
        previous = self.results.get(check.name)
        if previous is None or previous.status != result.status:
            level = logging.WARNING if error else logging.INFO
            log.log(level, "dependency %s is %s", check.name, result.status, extra={"error": error})
        self.results[check.name] = result
        return result

    async def check_all(self) -> dict[str, CheckResult]:
        """Check every dependency now, at once."""
        await asyncio.gather(*(self._run(check) for check in self.checks))
        return self.results

    async def _loop(self) -> None:
        while not self._stopping.is_set():
            await self.check_all()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), self.interval)

    def add(self, check: Check) -> None:
        """Add a dependency to check."""
        self.checks.append(check)

    def start(self) -> None:
        """Re-check the dependencies in the background, every `interval` seconds."""
        self._task = asyncio.create_task(self._loop(), name="dependency-monitor")

    async def stop(self) -> None:
        """Let a check under way finish (each is bounded by the timeout) rather than
        cancel it: a cancelled driver call can outlive the event loop in its thread."""
        if self._task is None:
            return
        self._stopping.set()
        try:
            await asyncio.wait_for(asyncio.shield(self._task), self.timeout + 1)
        except TimeoutError:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)


class DependencyGauges(Collector):
    """`service_dependency_up{dependency,critical}`: the monitor's last answer for each
    dependency (1 up, 0 down), so an alert can name a database that is not ready."""

    def __init__(self, monitor: DependencyMonitor) -> None:
        self.monitor = monitor

    def collect(self) -> Iterator[Metric]:
        """One sample per dependency checked so far."""
        gauge = GaugeMetricFamily(
            "service_dependency_up",
            "1 while the dependency answered its last check, 0 while it did not",
            labels=["dependency", "critical"],
        )
        for name, result in sorted(self.monitor.results.items()):
            gauge.add_metric([name, str(result.critical).lower()], 1 if result.status == "up" else 0)
        yield gauge


def readiness_body(service: str, results: dict[str, CheckResult]) -> tuple[int, dict[str, Any]]:
    """Pure: the HTTP status and body of /health/ready for the given results."""
    critical_down = any(r.status == "down" and r.critical for r in results.values())
    any_down = any(r.status == "down" for r in results.values())
    status = "not_ready" if critical_down else "degraded" if any_down else "ready"
    body = {
        "status": status,
        "service": service,
        "dependencies": {name: vars(result) for name, result in sorted(results.items())},
    }
    return (503 if critical_down else 200), body


class DependencyRead(BaseModel):
    """One dependency as readiness reports it."""

    status: str
    critical: bool
    latency_ms: float
    checked_at: str
    error: str | None


class ReadinessRead(BaseModel):
    """`/health/ready`'s body, the same on 200 and 503 (its own shape, not the error envelope:
    the 503 says which dependency is down)."""

    status: str
    service: str
    dependencies: dict[str, DependencyRead]


def health_router(service: str) -> APIRouter:
    """GET /health and /health/ready."""
    # Open to anyone: probes and load balancers carry no credentials.
    router = APIRouter(tags=["health"], dependencies=[Depends(OPEN)])

    @router.get("/health", summary="Liveness: the process serves; no dependency is checked")
    async def liveness() -> dict[str, str]:
        return {"status": "ok", "service": service}

    @router.get(
        "/health/ready",
        summary="Readiness: each dependency with its status",
        response_model=ReadinessRead,
        responses={503: {"model": ReadinessRead, "description": "not_ready: a critical dependency is down"}},
    )
    async def readiness(request: Request) -> JSONResponse:
        monitor: DependencyMonitor = request.app.state.monitor
        status_code, body = readiness_body(service, await monitor.check_all())
        return JSONResponse(body, status_code=status_code)

    return router
