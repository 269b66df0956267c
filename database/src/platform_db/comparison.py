"""How Alembic compares the models with a database: the options that
database/migrations/env.py (for `alembic check` and `alembic revision
--autogenerate`) and the test proving models and migrations match both use."""

from typing import Any

from sqlalchemy.types import TypeDecorator


def render_item(type_: str, obj: Any, autogen_context: Any) -> str | bool:
    """Write a model's TypeDecorator (UTCDateTime) into a migration as the
    column type it creates, so migrations never import application code."""
    if type_ == "type" and isinstance(obj, TypeDecorator):
        return f"sa.{obj.impl!r}"
    return False


COMPARE_OPTIONS: dict[str, Any] = {
    # Types are compared as the DDL they compile to, so UTCDateTime compares
    # as the TIMESTAMP WITH TIME ZONE it creates.
    "compare_type": True,
    # Off by default in Alembic; a default changed without a migration is a difference too.
    "compare_server_default": True,
    "render_item": render_item,
}
