"""Test support shared by every service's suite: a PostgreSQL server and a
database of its own per test run, a reset between tests, running apps
in-process and real server processes."""

import importlib
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any, BinaryIO, NoReturn

import httpx
import psycopg
import pytest
from fastapi import FastAPI
from fastapi.routing import APIRoute, iter_route_contexts
from sqlalchemy import create_engine, inspect, text
from sqlalchemy.engine import make_url

from platform_common.auth import Access, route_rules
from platform_common.migrations import SERVICE_ROLES, MigrationSettings, enable_service_logins, upgrade
from platform_testing.events import EventStream as EventStream
from platform_testing.local_postgres import DataDirInUse, LocalPostgres


def missing(what: str, install: str) -> NoReturn:
    """End a test that cannot run without `what`: skipped on a developer's machine,
    failed under CI=true (`.ci/run` sets it), where a tool the suite needs must
    not go missing quietly. `install` says how to get it."""
    if os.environ.get("CI") == "true":
        pytest.fail(f"{what} is not installed, and under CI=true every test must run: {install}")
    pytest.skip(f"{what} is not installed ({install})", allow_module_level=True)


def require_binary(name: str, install: str) -> str:
    """The path of the program `name`, or `missing`: on PATH, or in /usr/sbin, which
    is not on an ordinary user's PATH but is where Debian puts nginx."""
    found = shutil.which(name) or (f"/usr/sbin/{name}" if os.access(f"/usr/sbin/{name}", os.X_OK) else None)
    return found or missing(name, install)


def require_module(name: str, install: str) -> ModuleType:
    """The Python module `name`, imported, or `missing`."""
    try:
        return importlib.import_module(name)
    except ImportError:
        missing(f"the Python module {name}", install)


@contextmanager
def database_server(data_dir: Path) -> Iterator[str]:
    """The PostgreSQL server of one test run, as a URL of its `postgres` database.

    TEST_DATABASE_URL's server when set (CI's); otherwise an embedded server
    started here with its data in `data_dir`, kept between runs so only the
    first one pays for initdb, and stopped at the end. A second run beside the
    first (another terminal) gets a server of its own in a folder removed after.
    """
    configured = os.environ.get("TEST_DATABASE_URL")
    if configured:
        yield configured
        return
    # Throw-away data: no fsync, the suite commits thousands of times.
    try:
        server = LocalPostgres(data_dir, durable=False).start()
        folder = None
    except DataDirInUse:
        folder = data_dir.with_name(f"{data_dir.name}-{os.getpid()}")
        server = LocalPostgres(folder, durable=False).start()
    try:
        yield server.url()
    finally:
        server.stop()
        if folder is not None:
            shutil.rmtree(folder, ignore_errors=True)
            for suffix in (".lock", ".log"):
                folder.with_name(folder.name + suffix).unlink(missing_ok=True)


@contextmanager
def provisioned_database(server: str) -> Iterator[str]:
    """A new, empty database on `server` for one test run, dropped afterwards
    (the run makes its own, so parallel runs on one server never meet)."""
    base = make_url(server)
    name = f"platform_test_{uuid.uuid4().hex[:12]}"
    admin_dsn = base.set(drivername="postgresql", database="postgres").render_as_string(hide_password=False)
    with psycopg.connect(admin_dsn, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield base.set(drivername="postgresql", database=name).render_as_string(hide_password=False)
    finally:
        with psycopg.connect(admin_dsn, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


# The service roles' password in test runs: the same in every run, so runs that
# share a server (roles belong to the server) never lock each other out.
SERVICE_ROLE_PASSWORD = "test-service-role"  # noqa: S105 - a test-only credential  # nosec B105


def migrated(url: str) -> str:
    """Migrate the database at `url` (as the schema's owner) and let the service
    roles log in, as a deployment's migration job does; returns `url`."""
    settings = MigrationSettings(database_url=url)
    upgrade(settings)
    enable_service_logins(settings, dict.fromkeys(SERVICE_ROLES, SERVICE_ROLE_PASSWORD))
    return url


def as_service(url: str, role: str) -> str:
    """The database `url` as the service `role` (its package name) connects to it:
    with the rights of that service alone (migration 0009_service_roles)."""
    if role not in SERVICE_ROLES:
        raise ValueError(f"unknown service role {role!r}")
    return make_url(url).set(username=role, password=SERVICE_ROLE_PASSWORD).render_as_string(hide_password=False)


def _sync_url(url: str) -> str:
    return make_url(url).set(drivername="postgresql+psycopg").render_as_string(hide_password=False)


def reset_database(url: str) -> None:
    """Empty every table but Alembic's, keeping the schema. Live connections
    from server processes may stay open."""
    engine = create_engine(_sync_url(url))
    try:
        tables = [t for t in inspect(engine).get_table_names() if t != "alembic_version"]
        if tables:
            names = ", ".join(f'"{t}"' for t in tables)
            with engine.begin() as conn:
                conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
    finally:
        engine.dispose()


# The platform's internal credential in test runs (INTERNAL_TOKENS, set for
# every test by the root conftest): test-only, never a deployment's.
INTERNAL_TOKEN = "test-internal-credential-of-the-suite"  # noqa: S105 - a test-only credential  # nosec B105
PLATFORM_HEADERS = {"Authorization": f"Bearer {INTERNAL_TOKEN}"}


@asynccontextmanager
async def running_app(
    app: FastAPI, base_url: str = "http://testserver", *, as_platform: bool = True
) -> AsyncIterator[httpx.AsyncClient]:
    """The app with its lifespan run, and a client that calls it in-process:
    as the platform itself (the internal credential, which every rule admits)
    unless `as_platform` is False, for tests of who may do what."""
    async with app.router.lifespan_context(app):
        # Like a real server: an unhandled error becomes the 500 response, not a raise in the test.
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        headers = PLATFORM_HEADERS if as_platform else {}
        async with httpx.AsyncClient(transport=transport, base_url=base_url, headers=headers) as client:
            yield client


def user_with_token(database_url: str, name: str, *, role: str = "responder") -> tuple[uuid.UUID, dict[str, str]]:
    """A user of `role` (named `name`, email `<name>@example.com`) and the
    Authorization header of a fresh API token of theirs, written straight into
    the test database: for suites that need a signed-in actor without running
    oncall-service's login (whose own tests cover it). An existing user of that
    email gets a new token."""
    from platform_common.auth import TOKEN_PREFIX, new_secret, secret_hash

    secret = new_secret(TOKEN_PREFIX)
    email = f"{name.lower().replace(' ', '.')}@example.com"
    with psycopg.connect(
        make_url(_sync_url(database_url)).set(drivername="postgresql").render_as_string(False)
    ) as conn:
        user_id = conn.execute(
            "INSERT INTO users (id, name, email, role) VALUES (gen_random_uuid(), %s, %s, %s)"
            " ON CONFLICT (email) DO UPDATE SET role = EXCLUDED.role RETURNING id",
            (name, email, role),
        ).fetchone()[0]
        conn.execute(
            "INSERT INTO auth_credentials (id, user_id, kind, name, secret_hash)"
            " VALUES (gen_random_uuid(), %s, 'token', 'test', %s)",
            (user_id, secret_hash(secret)),
        )
    return user_id, {"Authorization": f"Bearer {secret}"}


def login_token(oncall_url: str, email: str, password: str) -> dict[str, str]:
    """The Authorization header of a new API token, got as a person gets one:
    log in to oncall-service with email and password (the session cookie),
    then make a token with that session (same-origin, as from the UI)."""
    with httpx.Client(base_url=oncall_url, timeout=10) as client:
        login = client.post("/api/v1/auth/login", json={"email": email, "password": password})
        if login.status_code != 200:
            raise RuntimeError(f"login as {email}: {login.status_code} {login.text}")
        created = client.post("/api/v1/auth/tokens", json={"name": "tests"}, headers={"Origin": oncall_url})
        if created.status_code != 201:
            raise RuntimeError(f"token for {email}: {created.status_code} {created.text}")
    return {"Authorization": f"Bearer {created.json()['token']}"}


_LOWEST_PORT = 10_000  # above the well-known and registered ports services here listen on
_handed_out: set[int] = set()


def _ephemeral_ports() -> range:
    """The kernel's range for the local ports of outgoing connections."""
    try:
        low, high = map(int, Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split())
    except (OSError, ValueError):
        low, high = 32768, 60999  # Linux's default
    return range(low, high + 1)


def _bindable(port: int) -> bool:
    with socket.socket() as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


def free_ports(count: int) -> int:
    """The first of `count` consecutive TCP ports free on 127.0.0.1.

    Chosen below the kernel's ephemeral range: a port from that range can be
    taken by any outgoing connection (a database client, a health probe) in
    the seconds between asking and a server binding it, which is how a
    service of the local runner once failed to start with "address already in
    use". Ports already handed out in this process are not handed out again.
    """
    ephemeral = _ephemeral_ports()
    candidates = range(_LOWEST_PORT, max(ephemeral.start, _LOWEST_PORT + 1000) - count)
    for _ in range(200):
        # Parallel runs must not pick alike; secrets (not random, which bandit flags as B311) is unpredictable.
        base = secrets.choice(candidates)
        block = range(base, base + count)
        if base + count <= 65535 and _handed_out.isdisjoint(block) and all(_bindable(p) for p in block):
            _handed_out.update(block)
            return base
    raise RuntimeError(f"no {count} consecutive free ports between {candidates.start} and {candidates.stop}")


def free_port() -> int:
    """A TCP port free on 127.0.0.1 at the time of asking (see `free_ports`)."""
    return free_ports(1)


def _signal_and_wait(process: subprocess.Popen[bytes], sig: int, timeout: float, kill: Callable[[], None]) -> int:
    """Send `sig` unless the process has ended, wait up to `timeout`, then `kill`; its exit code."""
    if process.poll() is None:
        process.send_signal(sig)
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            kill()
            process.wait()
    return process.returncode


class ServiceProcess:
    """A service started for real (`python -m package`) on a free port, for
    end-to-end tests over real HTTP between real processes. As deployed, it
    connects to the DATABASE_URL given as its own role (`as_service`), whoever
    that URL names."""

    def __init__(self, module: str, env: dict[str, str], *, port: int | None = None, log_dir: Path | None = None):
        self.module = module
        self.port = port or free_port()
        self.env = {**os.environ, **env, "PORT": str(self.port), "HOST": "127.0.0.1"}
        if module in SERVICE_ROLES and self.env.get("DATABASE_URL"):
            self.env["DATABASE_URL"] = as_service(self.env["DATABASE_URL"], module)
        self.log_path = (log_dir or Path(tempfile.mkdtemp(prefix="svc-"))) / f"{module}-{self.port}.log"
        self.process: subprocess.Popen[bytes] | None = None
        self._log_file: BinaryIO | None = None

    @property
    def url(self) -> str:
        """The base URL the process serves on."""
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 60.0) -> "ServiceProcess":
        """Start the process and wait until its /health answers. A service imports for
        seconds on a busy machine (20 s were not enough at a load of 8 on 2 cores)."""
        # Appended: a service started again (after a kill, a fault) keeps what it wrote before it died.
        self._log_file = self.log_path.open("ab")
        self.process = subprocess.Popen(
            [sys.executable, "-m", self.module], env=self.env, stdout=self._log_file, stderr=subprocess.STDOUT
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.module} exited early:\n{self.output()}")
            try:
                if httpx.get(f"{self.url}/health", timeout=0.5).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"{self.module} did not become healthy:\n{self.output()}")

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 15.0) -> int | None:
        """Signal the process (graceful by default) and wait; returns its exit code."""
        if self.process is None:
            return None
        code = _signal_and_wait(self.process, sig, timeout, self.process.kill)
        self._close_log()
        return code

    def kill(self) -> None:
        """SIGKILL: a crash, with no chance to clean up."""
        self.stop(signal.SIGKILL)

    def _close_log(self) -> None:
        if self._log_file is not None:
            self._log_file.close()
            self._log_file = None

    def output(self) -> str:
        """Everything the process wrote so far."""
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def __enter__(self) -> "ServiceProcess":
        return self.start()

    def __exit__(self, *_exc: object) -> None:
        self.stop()


# scripts/dev.py's services, in the order of their ports from DEV_BASE_PORT.
LOCAL_SERVICES = ("alert-ingestion", "incident-management", "oncall-service", "notification-service")
# What the runner makes on a first run (data/dev-secrets.json): unset, so each runner makes its own.
_RUNNER_MADE = ("ADMIN_EMAIL", "ADMIN_PASSWORD", "INTERNAL_TOKENS", "LINK_SIGNING_KEY")


class LocalRunner:
    """`make dev`'s runner (scripts/dev.py of the checkout at `root`) for real, on
    free ports, its files (nginx's, the secrets it makes, its log) in `folder`:
    the four services and, unless DEV_NGINX=0, the nginx front door. Without a
    `database_url` it starts its embedded PostgreSQL. Prometheus stays out
    unless `env` sets DEV_PROMETHEUS; `env` wins over every default."""

    def __init__(self, root: Path, folder: Path, env: dict[str, str] | None = None, *, database_url: str | None):
        self.root = root
        self.folder = folder
        self.base, self.http_port, self.https_port = free_ports(len(LOCAL_SERVICES)), free_port(), free_port()
        inherited = {k: v for k, v in os.environ.items() if k not in (*_RUNNER_MADE, "DATABASE_URL")}
        self.env = {
            **inherited,
            **({"DATABASE_URL": database_url} if database_url else {}),
            "DEV_BASE_PORT": str(self.base),
            "DEV_HTTP_PORT": str(self.http_port),
            "DEV_HTTPS_PORT": str(self.https_port),
            "DEV_NGINX_DIR": str(folder / "nginx"),
            "DEV_SECRETS_FILE": str(folder / "dev-secrets.json"),
            "DEV_PROMETHEUS": "0",
            "LOG_LEVEL": "WARNING",
            **(env or {}),
        }
        self.log_path = folder / "dev.log"
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        """The front door (nginx, plain HTTP)."""
        return f"http://127.0.0.1:{self.http_port}"

    @property
    def services(self) -> dict[str, str]:
        """Each service's name and its own base URL."""
        return {name: f"http://127.0.0.1:{self.base + i}" for i, name in enumerate(LOCAL_SERVICES)}

    @property
    def secrets(self) -> dict[str, str]:
        """What the runner made and kept (the admin's login among them)."""
        return json.loads(Path(self.env["DEV_SECRETS_FILE"]).read_text())

    def _up(self) -> bool:
        checks = [f"{url}/health" for url in self.services.values()]
        if self.env.get("DEV_NGINX", "1") != "0":
            checks.append(f"{self.url}/")  # the UI, so its build is done too
        try:
            return all(httpx.get(check, timeout=1).status_code == 200 for check in checks)
        except httpx.HTTPError:
            return False

    def start(self, timeout: float = 240.0) -> "LocalRunner":
        """Start the runner and wait until every service (and the front door) answers.
        The default allows for a fresh machine, which installs and builds the UI first."""
        # A file, not a pipe: five processes log into it, and a full pipe nobody
        # reads would stall them. A session of its own: Ctrl-C on the caller
        # reaches the runner only through stop(), which stops its services in order.
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                [sys.executable, str(self.root / "scripts" / "dev.py")],
                env=self.env,
                cwd=self.root,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"scripts/dev.py exited with {self.process.returncode}:\n{self.output()}")
            if self._up():
                return self
            time.sleep(0.3)
        self.stop()
        raise RuntimeError(f"the local platform did not come up:\n{self.output()}")

    def stop(self, sig: int = signal.SIGINT, timeout: float = 60.0) -> int | None:
        """Signal the runner (Ctrl-C by default), which stops what it started; returns its exit code."""
        if self.process is None:
            return None
        pid = self.process.pid
        return _signal_and_wait(self.process, sig, timeout, lambda: os.killpg(pid, signal.SIGKILL))

    def output(self) -> str:
        """Everything the runner and its services wrote so far."""
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def __enter__(self) -> "LocalRunner":
        return self.start()

    def __exit__(self, *_exc: object) -> None:
        self.stop()


def wait_for(check: Callable[[], Any], timeout: float = 20.0) -> Any:
    """The first truthy answer of `check`, polled every 0.1 s; AssertionError after `timeout`."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if result := check():
            return result
        time.sleep(0.1)
    raise AssertionError("not reached in time")


@dataclass(frozen=True)
class RouteRule:
    """One method of one route of an app, and the Access rules it declares."""

    method: str
    path: str
    rules: tuple[Access, ...]


# FastAPI's own documentation routes and the metrics scrape: open by design
# (ARCHITECTURE.md), and declared by no dependency of ours.
OPEN_BY_DESIGN = frozenset({"/openapi.json", "/docs", "/docs/oauth2-redirect", "/redoc", "/metrics"})


def route_table(app: FastAPI) -> list[RouteRule]:
    """Every method of every route the app serves (included routers flattened),
    with its rules: an APIRoute's from its dependencies, a hot route's from the
    `access` it carries."""
    table = []
    for context in iter_route_contexts(app.routes):
        route = context.original_route
        if isinstance(route, APIRoute):
            rules = tuple(dict.fromkeys(route_rules(route.dependant)))
        else:
            rules = (route.access,) if getattr(route, "access", None) else ()
        for method in sorted((context.methods or set()) - {"HEAD"}) or ["GET"]:
            table.append(RouteRule(method, context.path, rules))
    return table
