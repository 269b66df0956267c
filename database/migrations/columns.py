"""Column shapes shared by the migrations, so every table spells them the same way."""

import sqlalchemy as sa

# Migrations are history: they spell the value lists as they were when they
# ran, never importing the live ones (platform_db.enums), so a later change
# to a list cannot rewrite what an old migration builds. A list changed in
# platform_db without a migration is caught by test_models_match_migrations.
SEVERITIES = ("critical", "high", "medium", "low", "info")


def in_check(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


def id_column() -> sa.Column:
    return sa.Column("id", sa.Uuid(), primary_key=True)


def serial_id_column() -> sa.Column:
    return sa.Column("id", sa.BigInteger(), primary_key=True, autoincrement=True)


def timestamp(name: str, *, nullable: bool = False, default_now: bool = False) -> sa.Column:
    return sa.Column(
        name,
        sa.DateTime(timezone=True),
        nullable=nullable,
        server_default=sa.func.current_timestamp() if default_now else None,
    )


def created_updated() -> list[sa.Column]:
    return [timestamp("created_at", default_now=True), timestamp("updated_at", default_now=True)]
