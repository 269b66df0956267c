"""Read-only view of the alerts alert-ingestion attached to an incident.

The `alerts` table belongs to alert-ingestion (migration 0004); it is reflected
rather than modelled here so that this service shows whatever columns it has
without owning its shape.
"""

import uuid
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import MetaData, Table, select
from sqlalchemy.ext.asyncio import AsyncSession

# The raw payload can be large and is ingestion's business; the detail view shows the rest.
HIDDEN_COLUMNS = frozenset({"payload"})
_tables: dict[str, Table] = {}


async def _alerts_table(session: AsyncSession) -> Table:
    connection = await session.connection()
    key = str(connection.engine.url)
    if key not in _tables:
        _tables[key] = await connection.run_sync(_reflect)
    return _tables[key]


def _reflect(sync_connection: Any) -> Table:
    return Table("alerts", MetaData(), autoload_with=sync_connection)


def _plain(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.astimezone(UTC)
    if isinstance(value, uuid.UUID):
        return str(value)
    return value


async def alerts_of(
    session: AsyncSession, *, incident_id: uuid.UUID, limit: int = 100
) -> tuple[list[dict[str, Any]], bool]:
    """The incident's most recent alerts (newest first), and whether there are more than `limit`."""
    table = await _alerts_table(session)
    columns = [column for column in table.columns if column.name not in HIDDEN_COLUMNS]
    order = table.c.received_at.desc() if "received_at" in table.c else table.c.id
    rows = (
        await session.execute(
            select(*columns).where(table.c.incident_id == incident_id).order_by(order).limit(limit + 1)
        )
    ).mappings()
    items = [{name: _plain(value) for name, value in row.items()} for row in rows]
    return items[:limit], len(items) > limit
