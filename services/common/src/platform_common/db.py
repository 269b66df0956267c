"""The database engine and sessions: PostgreSQL when DATABASE_URL is set, SQLite otherwise."""

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from fastapi import Request
from sqlalchemy import DateTime, event, text
from sqlalchemy.engine import Dialect, make_url
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.types import TypeDecorator

from platform_common.settings import BaseServiceSettings


def _sqlite_file(path: Path) -> Path:
    path = path.expanduser().resolve()
    path.parent.mkdir(parents=True, exist_ok=True)
    return path


def database_urls(settings: BaseServiceSettings) -> tuple[str, str]:
    """Return (async_url, sync_url) for the configured database.

    Operators write plain `postgresql://...` URLs; the drivers are our choice:
    asyncpg for the services, psycopg for Alembic.
    """
    if settings.database_url is None:
        path = _sqlite_file(settings.sqlite_path)
        return f"sqlite+aiosqlite:///{path}", f"sqlite:///{path}"
    raw = settings.database_url.get_secret_value()
    if raw.startswith("postgres://"):  # the Heroku/libpq spelling SQLAlchemy does not accept
        raw = "postgresql://" + raw.removeprefix("postgres://")
    url = make_url(raw)
    backend = url.get_backend_name()
    if backend == "postgresql":
        return (
            url.set(drivername="postgresql+asyncpg").render_as_string(hide_password=False),
            url.set(drivername="postgresql+psycopg").render_as_string(hide_password=False),
        )
    if backend == "sqlite":
        path = _sqlite_file(Path(url.database or settings.sqlite_path))
        return f"sqlite+aiosqlite:///{path}", f"sqlite:///{path}"
    raise ValueError(f"unsupported DATABASE_URL backend {backend!r}: use postgresql:// or sqlite://")


def _configure_sqlite(engine: AsyncEngine) -> None:
    """WAL for concurrent readers, a busy timeout for the four local processes,
    foreign keys on, and BEGIN IMMEDIATE so writers queue instead of failing
    with SQLITE_BUSY when a read transaction later tries to write."""

    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA busy_timeout=10000")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(connection: Any) -> None:
        connection.exec_driver_sql("BEGIN IMMEDIATE")


class Database:
    """Owns one engine and its session factory for the life of an app or worker."""

    def __init__(self, settings: BaseServiceSettings) -> None:
        async_url, _ = database_urls(settings)
        self.is_sqlite = async_url.startswith("sqlite")
        options: dict[str, Any] = {"pool_pre_ping": True}
        if not self.is_sqlite:
            options |= {"pool_size": settings.db_pool_size, "max_overflow": settings.db_max_overflow}
        self.engine: AsyncEngine = create_async_engine(async_url, **options)
        if self.is_sqlite:
            _configure_sqlite(self.engine)
        self.sessionmaker = async_sessionmaker(self.engine, expire_on_commit=False)

    async def ping(self) -> None:
        async with self.engine.connect() as connection:
            await connection.execute(text("SELECT 1"))

    async def dispose(self) -> None:
        await self.engine.dispose()


async def get_session(request: Request) -> AsyncIterator[AsyncSession]:
    """FastAPI dependency: one session per request. The route commits, once."""
    async with request.app.state.db.sessionmaker() as session:
        yield session


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes on both backends (SQLite drops the offset)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given; use timezone-aware UTC datetimes")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)
