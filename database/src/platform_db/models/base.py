"""The one declarative base, and with it the one MetaData of the shared database's tables."""

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, MetaData, TextClause, text
from sqlalchemy.orm import DeclarativeBase

from platform_common.db import UTCDateTime


class Base(DeclarativeBase):
    # Every timestamp column is timestamptz read back as an aware UTC datetime
    # (the services compare and subtract them, and refuse naive ones on write);
    # JSON columns hold objects or arrays.
    type_annotation_map = {
        datetime: UTCDateTime,
        dict[str, Any]: JSON,
        list[Any]: JSON,
        list[dict[str, Any]]: JSON,
    }


def json_default(value: str) -> TextClause:
    """A JSON column's server default, spelled as PostgreSQL reports it back
    (`'{}'::json`). Alembic compares defaults by their text first and only
    otherwise asks PostgreSQL whether they are equal, which json, having no
    `=` operator, cannot answer."""
    return text(f"'{value}'::json")


# Read-only views a table's owner publishes for other services. Their SQL is
# in the migrations; they are described here so readers get column types, and
# kept out of Base.metadata, which Alembic and create_all treat as tables.
views = MetaData()
