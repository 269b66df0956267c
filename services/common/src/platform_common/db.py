"""The database engine and sessions, on the PostgreSQL server DATABASE_URL names."""

from collections.abc import AsyncIterator
from datetime import UTC, datetime

from fastapi import Request
from sqlalchemy import DateTime, text
from sqlalchemy.engine import Dialect, make_url
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.types import TypeDecorator

from platform_common.settings import BaseServiceSettings


def database_urls(settings: BaseServiceSettings) -> tuple[str, str]:
    """Return (async_url, sync_url) for the configured database.

    Operators write plain `postgresql://...` URLs; the drivers are our choice:
    asyncpg for the services, psycopg for Alembic.
    """
    if settings.database_url is None:
        raise RuntimeError(
            "DATABASE_URL is not set: `make dev` and `make test` start a local PostgreSQL and set it;"
            " to run a service or a migration by itself, point DATABASE_URL at a PostgreSQL server"
        )
    raw = settings.database_url.get_secret_value()
    if raw.startswith("postgres://"):  # the Heroku/libpq spelling SQLAlchemy does not accept
        raw = "postgresql://" + raw.removeprefix("postgres://")
    url = make_url(raw)
    backend = url.get_backend_name()
    if backend != "postgresql":
        raise ValueError(f"unsupported DATABASE_URL backend {backend!r}: use postgresql://")
    return (
        url.set(drivername="postgresql+asyncpg").render_as_string(hide_password=False),
        url.set(drivername="postgresql+psycopg").render_as_string(hide_password=False),
    )


class Database:
    """Owns one engine and its session factory for the life of an app or worker."""

    def __init__(self, settings: BaseServiceSettings) -> None:
        async_url, _ = database_urls(settings)
        self.engine: AsyncEngine = create_async_engine(
            async_url,
            pool_pre_ping=True,
            pool_size=settings.db_pool_size,
            max_overflow=settings.db_max_overflow,
        )
        self.sessionmaker = async_sessionmaker(self.engine, expire_on_commit=False)

    async def ping(self) -> None:
        """Run SELECT 1; raises when the database cannot be reached."""
        async with self.engine.connect() as connection:
            await connection.execute(text("SELECT 1"))

    async def dispose(self) -> None:
        """Close every pooled connection."""
        await self.engine.dispose()


async def get_session(request: Request) -> AsyncIterator[AsyncSession]:
    """FastAPI dependency: one session per request. The route commits, once."""
    async with request.app.state.db.sessionmaker() as session:
        yield session


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware datetimes, always in UTC: a naive one is refused on the way
    in, and values come back in UTC whatever the session's TimeZone is."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        """Refuse a naive datetime; store the aware one as UTC."""
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given; use timezone-aware UTC datetimes")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        """Read a stored time back as timezone-aware UTC."""
        if value is None:
            return None
        return value.astimezone(UTC)
