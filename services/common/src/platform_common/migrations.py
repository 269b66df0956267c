"""Run the one Alembic history in `database/` against the configured database."""

import argparse
import os
from pathlib import Path

from alembic import command
from alembic.config import Config

from platform_common.db import database_urls
from platform_common.logging import configure_logging
from platform_common.settings import BaseServiceSettings


class MigrationSettings(BaseServiceSettings):
    """What migrations need: only the database URL."""

    service_name: str = "migrations"
    port: int = 0


def migrations_dir() -> Path:
    """`MIGRATIONS_DIR`, else the `database/` folder above the working directory or this file."""
    configured = os.environ.get("MIGRATIONS_DIR")
    if configured:
        return Path(configured)
    here = Path(__file__).resolve()
    for base in (Path.cwd(), *Path.cwd().parents, *here.parents):
        if (base / "database" / "alembic.ini").is_file():
            return base / "database"
    raise RuntimeError("cannot find database/alembic.ini; set MIGRATIONS_DIR")


def alembic_config(settings: BaseServiceSettings) -> Config:
    """Alembic's configuration for database/, pointed at the settings' database."""
    folder = migrations_dir()
    config = Config(str(folder / "alembic.ini"))
    config.set_main_option("script_location", str(folder / "migrations"))
    # Without DATABASE_URL the history can still be read; running it fails in
    # env.py with database_urls' explanation.
    if settings.database_url is not None:
        _, sync_url = database_urls(settings)
        config.set_main_option("sqlalchemy.url", sync_url.replace("%", "%%"))
    return config


def upgrade(settings: BaseServiceSettings, revision: str = "head") -> None:
    """Migrate up to `revision`."""
    command.upgrade(alembic_config(settings), revision)


def downgrade(settings: BaseServiceSettings, revision: str = "base") -> None:
    """Migrate down to `revision`."""
    command.downgrade(alembic_config(settings), revision)


def main() -> None:
    """The platform-migrate command: upgrade, downgrade or current."""
    parser = argparse.ArgumentParser(description="Migrate the platform database (DATABASE_URL).")
    parser.add_argument("action", choices=["upgrade", "downgrade", "current"], nargs="?", default="upgrade")
    parser.add_argument("revision", nargs="?", help="target revision (default: head / base)")
    args = parser.parse_args()
    settings = MigrationSettings()
    configure_logging(settings.service_name, settings.log_level)
    if args.action == "upgrade":
        upgrade(settings, args.revision or "head")
    elif args.action == "downgrade":
        downgrade(settings, args.revision or "base")
    else:
        command.current(alembic_config(settings), verbose=True)


if __name__ == "__main__":
    main()
