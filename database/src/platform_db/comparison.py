"""How Alembic compares the models with a database: the options that
database/migrations/env.py (for `alembic check` and `alembic revision
--autogenerate`) and the test proving models and migrations match both use."""

import re
from typing import Any

from sqlalchemy.types import TypeDecorator


def render_item(type_: str, obj: Any, autogen_context: Any) -> str | bool:
    """Write a model's TypeDecorator (UTCDateTime) into a migration as the
    column type it creates, so migrations never import application code."""
    if type_ == "type" and isinstance(obj, TypeDecorator):
        return f"sa.{obj.impl!r}"
    return False


# Expression indexes Alembic cannot compare (it compares an expression's text,
# and PostgreSQL gives back `((title)::text || ' '::text) || ...` for `title || ' ' || ...`).
# The test that builds the schema both ways compares them in PostgreSQL's own catalog.
EXPRESSION_INDEXES = frozenset({"ix_incidents_search", "ix_alerts_search"})


# The monthly partitions of the timeline (migration 0018_retention) and of alerts (0019_alert_partitions):
# made by the migrations and the workers, not by a model; Alembic would see each as a table to remove.
PARTITION = re.compile(r"(incident_timeline|alerts)_(p[0-9]{6}|default)")


def include_object(obj: Any, name: str | None, type_: str, reflected: bool, compare_to: Any) -> bool:
    """Everything but the expression indexes Alembic would always report as changed, and partitions."""
    if type_ == "table" and name is not None and PARTITION.fullmatch(name):
        return False
    return not (type_ == "index" and name in EXPRESSION_INDEXES)


COMPARE_OPTIONS: dict[str, Any] = {
    "include_object": include_object,
    # Types are compared as the DDL they compile to, so UTCDateTime compares
    # as the TIMESTAMP WITH TIME ZONE it creates.
    "compare_type": True,
    # Off by default in Alembic; a default changed without a migration is a difference too.
    "compare_server_default": True,
    "render_item": render_item,
}
