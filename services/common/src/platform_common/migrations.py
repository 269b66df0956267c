"""Run the one Alembic history in `database/` against the configured database."""

import argparse
import logging
import os
from collections.abc import Mapping
from pathlib import Path

import psycopg
from alembic import command
from alembic.config import Config
from psycopg import sql
from pydantic import SecretStr, model_validator
from sqlalchemy.engine import make_url

from platform_common.db import database_urls
from platform_common.logging import configure_logging
from platform_common.settings import BaseServiceSettings, refuse_weak_secret

log = logging.getLogger(__name__)

# Each service's PostgreSQL role (migration 0009_service_roles): named as its package.
SERVICE_ROLES = ("alert_ingestion", "incident_management", "oncall_service", "notification_service")


class MigrationSettings(BaseServiceSettings):
    """What migrations need: the database URL of the role that owns the schema,
    and the service roles' passwords where this run is to let them log in."""

    service_name: str = "migrations"
    port: int = 0
    alert_ingestion_database_password: SecretStr | None = None
    incident_management_database_password: SecretStr | None = None
    oncall_service_database_password: SecretStr | None = None
    notification_service_database_password: SecretStr | None = None

    @model_validator(mode="after")
    def _refuse_unsafe_production(self) -> "MigrationSettings":
        """Replaces the services' rule: a migration calls no service, so INTERNAL_TOKENS
        is not asked for; a service role's password, when given, must be a real secret."""
        if self.environment in ("dev", "prod") and self.database_url is None:
            raise ValueError("DATABASE_URL must be set outside local and test runs")
        for role in SERVICE_ROLES:
            name = f"{role}_database_password"
            refuse_weak_secret(self.environment, name.upper(), getattr(self, name))
        return self

    def service_passwords(self) -> dict[str, str]:
        """Each service role given a password (<ROLE>_DATABASE_PASSWORD), with it."""
        given = {role: getattr(self, f"{role}_database_password") for role in SERVICE_ROLES}
        return {role: secret.get_secret_value() for role, secret in given.items() if secret is not None}


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


def current(settings: BaseServiceSettings) -> None:
    """Print the database's revision."""
    command.current(alembic_config(settings), verbose=True)


def enable_service_logins(settings: BaseServiceSettings, passwords: Mapping[str, str]) -> dict[str, str]:
    """Let each service role in `passwords` log in with its password (which takes
    CREATEROLE); returns each one's DATABASE_URL, the settings' URL as that role."""
    _, sync_url = database_urls(settings)
    with psycopg.connect(make_url(sync_url).set(drivername="postgresql").render_as_string(False)) as conn:
        for role, password in passwords.items():
            statement = sql.SQL("ALTER ROLE {} LOGIN PASSWORD {}").format(sql.Identifier(role), sql.Literal(password))
            conn.execute(statement)
    plain = make_url(settings.database_url.get_secret_value()).set(drivername="postgresql")
    return {
        role: plain.set(username=role, password=password).render_as_string(hide_password=False)
        for role, password in passwords.items()
    }


def main() -> None:
    """The platform-migrate command: upgrade, downgrade or current."""
    parser = argparse.ArgumentParser(
        description="Migrate the platform database (DATABASE_URL); after an upgrade, let each service role"
        " whose <ROLE>_DATABASE_PASSWORD is set log in with it."
    )
    parser.add_argument("action", choices=["upgrade", "downgrade", "current"], nargs="?", default="upgrade")
    parser.add_argument("revision", nargs="?", help="target revision (default: head / base)")
    args = parser.parse_args()
    settings = MigrationSettings()
    configure_logging(settings.service_name, settings.log_level)
    if args.action == "upgrade":
        upgrade(settings, args.revision or "head")
        if passwords := settings.service_passwords():
            enable_service_logins(settings, passwords)
            log.info("service roles may log in: %s", ", ".join(passwords))
    elif args.action == "downgrade":
        downgrade(settings, args.revision or "base")
    else:
        current(settings)


if __name__ == "__main__":
    main()
