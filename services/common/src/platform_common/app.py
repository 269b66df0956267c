"""Assemble a service's FastAPI app the same way everywhere."""

import gc
import logging
from collections.abc import AsyncIterator, Callable, Iterable, Iterator, Mapping
from contextlib import AbstractAsyncContextManager, asynccontextmanager, contextmanager, nullcontext

import httpx
from fastapi import APIRouter, Depends, FastAPI
from fastapi.dependencies.utils import get_flat_params
from fastapi.middleware.cors import CORSMiddleware
from fastapi.params import Path
from fastapi.routing import APIRoute

from platform_common import admin
from platform_common.auth import Authenticator, route_rules, rule_statuses
from platform_common.body_limit import MaxBodySizeMiddleware
from platform_common.db import Database
from platform_common.errors import error_responses, install_error_handlers
from platform_common.health import Check, DependencyGauges, DependencyMonitor, health_router, http_probe
from platform_common.logging import configure_logging
from platform_common.metrics import install_metrics
from platform_common.request_id import RequestIdMiddleware
from platform_common.settings import BaseServiceSettings
from platform_common.validation import refuse_lone_surrogates

log = logging.getLogger(__name__)

LifespanHook = Callable[[FastAPI], AbstractAsyncContextManager[None]]


def create_service_app(
    settings: BaseServiceSettings,
    *,
    title: str,
    description: str,
    routers: Iterable[APIRouter] = (),
    lifespan: LifespanHook | None = None,
    dependencies: Mapping[str, str] | None = None,
    version: str = "0.1.0",
) -> FastAPI:
    """The common skeleton: logging, request ids, body limit, errors, health,
    metrics, admin. `lifespan` runs inside it with `app.state.db`,
    `app.state.settings` and `app.state.monitor` ready; it may add checks and
    start clients or workers there. `dependencies` names the other services
    (name -> base URL) this one calls; readiness reports them, non-critical,
    because every call between services has a fallback."""
    configure_logging(settings.service_name, settings.log_level)
    app = FastAPI(
        title=title,
        description=description,
        version=version,
        lifespan=_lifespan(settings, lifespan, dependencies or {}),
    )
    app.state.settings = settings
    install_error_handlers(app)
    _add_middleware(app, settings)
    common = [health_router(settings.service_name), admin.router]
    # Every route refuses a body no UTF-8 encoder can write, naming where (422), before reading it.
    checks = [Depends(refuse_lone_surrogates)]
    for router, uses_database in [(r, False) for r in common] + [(r, True) for r in routers]:
        _document_common_errors(router, uses_database=uses_database)
        app.include_router(router, dependencies=checks)
    install_metrics(app)
    return app


def _lifespan(
    settings: BaseServiceSettings, inner: LifespanHook | None, dependencies: Mapping[str, str]
) -> LifespanHook:
    """The app's life: the database and the credential check first, then readiness,
    then the service's own `inner` part; closed in reverse."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.settings = settings
        app.state.db = Database(settings)
        app.state.auth = Authenticator(
            app.state.db,
            internal_tokens=settings.internal_tokens,
            cache_seconds=settings.auth_cache_seconds,
            trusted_origins=(_origin(settings.ui_base_url),),
        )
        try:
            async with _readiness(app, settings, dependencies), inner(app) if inner else nullcontext():
                app.state.monitor.start()
                log.info("%s started", settings.service_name, extra={"port": settings.port})
                with _start_up_kept():
                    yield
                log.info("%s stopping", settings.service_name)
        finally:
            await app.state.db.dispose()

    return lifespan


@contextmanager
def _start_up_kept() -> Iterator[None]:
    """What start-up built (routes, pydantic's and SQLAlchemy's models: most of the heap) lives as
    long as the app, so the garbage collector stops walking it: a full collection walked all of
    it, 80-200 ms taken from one request in every ~65 searches, the whole of search's p99
    (bench/README.md, "Incident search"). Handed back at shutdown, so a process that starts
    many apps (the tests) can still collect each one's garbage."""
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()


@asynccontextmanager
async def _readiness(
    app: FastAPI, settings: BaseServiceSettings, dependencies: Mapping[str, str]
) -> AsyncIterator[None]:
    """`app.state.monitor`, behind /health/ready and the dependency gauges: the
    database (critical) and each service this one calls (not critical). The
    service's own part may add checks before it starts."""
    async with httpx.AsyncClient(timeout=2.0) as probes:
        checks = [Check("database", app.state.db.ping)]
        checks += [
            Check(name, http_probe(probes, f"{url.rstrip('/')}/health"), critical=False)
            for name, url in dependencies.items()
        ]
        app.state.monitor = DependencyMonitor(checks, interval=settings.readiness_interval_seconds)
        gauges = DependencyGauges(app.state.monitor)
        app.state.metrics_registry.register(gauges)
        try:
            yield
        finally:
            app.state.metrics_registry.unregister(gauges)
            await app.state.monitor.stop()


def _add_middleware(app: FastAPI, settings: BaseServiceSettings) -> None:
    # Ours rather than FastAPI's max_body_size: the 413 keeps the JSON error envelope.
    app.add_middleware(MaxBodySizeMiddleware, max_bytes=settings.max_body_bytes)
    app.add_middleware(RequestIdMiddleware)
    # Only the UI's origin may call from a browser; through nginx it is the same
    # origin and CORS never comes into it.
    app.add_middleware(
        CORSMiddleware,
        allow_origins=[_origin(settings.ui_base_url)],
        allow_credentials=True,
        allow_methods=["GET", "POST", "PUT", "PATCH", "DELETE"],
        allow_headers=["Authorization", "Content-Type", "X-Request-ID"],
        expose_headers=["X-Request-ID", "Retry-After"],
    )


def _document_common_errors(router: APIRouter, *, uses_database: bool) -> None:
    """The answers any route may give whatever it does, documented on each in
    one place: a body that cannot be read (400) or is too large (413), inputs
    that fail validation (422, in the envelope rather than FastAPI's own
    schema, since domain checks answer 422 with a sentence too), an id in the
    path that names nothing (404), and for the service's own routes, which all
    use the database, 503 while it is down and 409 when a write clashes with
    stored data (errors.py turns an IntegrityError into a 409).
    A route's own `responses=` entry for a status wins; setting an entry again
    (routers are module-level, apps are built many times) changes nothing."""
    for route in router.routes:
        if not isinstance(route, APIRoute) or not route.include_in_schema:
            continue
        params = get_flat_params(route.dependant)
        statuses = [400, 413] if route.body_field is not None else []
        if route.body_field is not None or params:
            statuses.append(422)
        if any(isinstance(p.field_info, Path) for p in params):
            # A path parameter names a resource, which may not exist.
            statuses.append(404)
        statuses += rule_statuses(route_rules(route.dependant))
        if uses_database:
            if route.methods & {"POST", "PUT", "PATCH", "DELETE"}:
                # A write can clash with stored data (a unique name, a row still referenced).
                statuses.append(409)
            statuses.append(503)
        for status, entry in error_responses(*sorted(set(statuses))).items():
            route.responses.setdefault(status, entry)


def _origin(url: str) -> str:
    """scheme://host[:port] of a URL, as browsers send it in Origin."""
    scheme, _, rest = url.partition("://")
    return f"{scheme}://{rest.split('/', 1)[0]}"
