"""Alembic environment. Migrations are written by hand (each says why);
`target_metadata` is the shared models in platform_db, so `alembic check` and
`alembic revision --autogenerate` show where models and migrations differ
(database/tests/test_models_match_migrations.py asserts they never do)."""

import sys
from pathlib import Path

from alembic import context
from sqlalchemy import create_engine, pool

from platform_common.db import database_urls
from platform_common.migrations import MigrationSettings
from platform_db.comparison import COMPARE_OPTIONS
from platform_db.models import Base

# Lets every migration import `columns`, the shapes they share.
sys.path.insert(0, str(Path(__file__).resolve().parent))

config = context.config
target_metadata = Base.metadata


def _url() -> str:
    return config.get_main_option("sqlalchemy.url") or database_urls(MigrationSettings())[1]


def run_migrations_offline() -> None:
    context.configure(url=_url(), literal_binds=True, dialect_opts={"paramstyle": "named"})
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    engine = create_engine(_url(), poolclass=pool.NullPool)
    with engine.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            transaction_per_migration=True,
            **COMPARE_OPTIONS,
        )
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
