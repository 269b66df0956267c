"""Column shapes shared by the migrations, so every table spells them the same way."""

import sqlalchemy as sa

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
