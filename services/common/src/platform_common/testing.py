"""Test support shared by every service's suite: a real database per test run,
a reset between tests, running apps in-process and real server processes."""

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path
from typing import BinaryIO

import httpx
import psycopg
from fastapi import FastAPI
from sqlalchemy import create_engine, inspect, text
from sqlalchemy.engine import make_url


@contextmanager
def provisioned_database() -> Iterator[str]:
    """A new, empty database for one test run, dropped afterwards.

    PostgreSQL when TEST_DATABASE_URL names a server (the run creates its own
    database there, so parallel runs never meet); an SQLite file otherwise.
    """
    server = os.environ.get("TEST_DATABASE_URL")
    if not server:
        folder = tempfile.mkdtemp(prefix="platform-test-")
        try:
            yield f"sqlite:///{folder}/test.db"
        finally:
            shutil.rmtree(folder, ignore_errors=True)
        return
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


def _sync_url(url: str) -> str:
    parsed = make_url(url)
    if parsed.get_backend_name() == "postgresql":
        return parsed.set(drivername="postgresql+psycopg").render_as_string(hide_password=False)
    return url


def reset_database(url: str) -> None:
    """Empty every table but Alembic's, keeping the schema. Live connections
    from server processes may stay open."""
    # A server process or a just-stopped app may still hold SQLite's write lock
    # for a moment: wait for it rather than fail the next test.
    connect_args = {"timeout": 30} if url.startswith("sqlite") else {}
    engine = create_engine(_sync_url(url), connect_args=connect_args)
    try:
        tables = [t for t in inspect(engine).get_table_names() if t != "alembic_version"]
        with engine.begin() as conn:
            if engine.dialect.name == "postgresql":
                if tables:
                    names = ", ".join(f'"{t}"' for t in tables)
                    conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
                return
            # SQLite has no TRUNCATE, and DELETE fires the append-only triggers:
            # lift them for the reset and put them back exactly as they were.
            triggers = conn.execute(text("SELECT name, sql FROM sqlite_master WHERE type = 'trigger'")).all()
            for name, _ in triggers:
                conn.execute(text(f'DROP TRIGGER "{name}"'))
            conn.execute(text("PRAGMA defer_foreign_keys = ON"))
            for table in tables:
                conn.execute(text(f'DELETE FROM "{table}"'))
            for _, sql in triggers:
                conn.execute(text(sql))
    finally:
        engine.dispose()


@asynccontextmanager
async def running_app(app: FastAPI, base_url: str = "http://testserver") -> AsyncIterator[httpx.AsyncClient]:
    """The app with its lifespan run, and a client that calls it in-process."""
    async with app.router.lifespan_context(app):
        # Like a real server: an unhandled error becomes the 500 response, not a raise in the test.
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url=base_url) as client:
            yield client


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class ServiceProcess:
    """A service started for real (`python -m package`) on a free port, for
    end-to-end tests over real HTTP between real processes."""

    def __init__(self, module: str, env: dict[str, str], *, port: int | None = None, log_dir: Path | None = None):
        self.module = module
        self.port = port or free_port()
        self.env = {**os.environ, **env, "PORT": str(self.port), "HOST": "127.0.0.1"}
        self.log_path = (log_dir or Path(tempfile.mkdtemp(prefix="svc-"))) / f"{module}-{self.port}.log"
        self.process: subprocess.Popen[bytes] | None = None
        self._log_file: BinaryIO | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 20.0) -> "ServiceProcess":
        self._log_file = self.log_path.open("wb")
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
        if self.process.poll() is None:
            self.process.send_signal(sig)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self._close_log()
        return self.process.returncode

    def kill(self) -> None:
        """SIGKILL: a crash, with no chance to clean up."""
        self.stop(signal.SIGKILL)

    def _close_log(self) -> None:
        if self._log_file is not None:
            self._log_file.close()
            self._log_file = None

    def output(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def __enter__(self) -> "ServiceProcess":
        return self.start()

    def __exit__(self, *_exc: object) -> None:
        self.stop()
