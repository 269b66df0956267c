"""PostgreSQL only: the common trigger (a repeat, or an alert joining an open
incident) in one round trip, through the `ingest_alert` function of migration
0004 and a plain asyncpg pool (prepared statement, no ORM on the hot path)."""

import uuid
from datetime import datetime
from typing import Any

import asyncpg
import orjson
from sqlalchemy.engine import make_url

_CALL = "SELECT action, incident_id FROM ingest_alert($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14,$15)"


def _json(value: Any) -> str | None:
    return None if value is None else orjson.dumps(value, default=str).decode()


class FastPath:
    def __init__(self, pool: asyncpg.Pool) -> None:
        self.pool = pool

    @classmethod
    async def connect(cls, database_url: str, *, size: int) -> "FastPath":
        dsn = make_url(database_url).set(drivername="postgresql").render_as_string(hide_password=False)
        # min_size=0: the service starts (and says so in readiness) while PostgreSQL is down.
        pool = await asyncpg.create_pool(dsn, min_size=0, max_size=size)
        return cls(pool)

    async def ingest(
        self,
        *,
        alert_id: uuid.UUID,
        integration_id: uuid.UUID | None,
        scope: str,
        format: str,
        source: str,
        service: str,
        severity: str,
        message: str,
        labels: dict[str, Any],
        fingerprint: str,
        dedup_key: str | None,
        event_timestamp: datetime | None,
        payload: dict[str, Any] | None,
        now: datetime,
        since: datetime,
    ) -> tuple[str, uuid.UUID | None]:
        """('deduplicated'|'correlated', incident id), committed; or ('create', None), nothing stored."""
        row = await self.pool.fetchrow(
            _CALL,
            alert_id,
            integration_id,
            scope,
            format,
            source,
            service,
            severity,
            message,
            _json(labels),
            fingerprint,
            dedup_key,
            event_timestamp,
            _json(payload),
            now,
            since,
        )
        incident_id = row["incident_id"]
        return row["action"], uuid.UUID(bytes=incident_id.bytes) if incident_id is not None else None

    async def close(self) -> None:
        await self.pool.close()
