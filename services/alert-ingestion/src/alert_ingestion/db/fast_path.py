"""PostgreSQL only: the common trigger (a repeat, or an alert joining an open
incident) without the general path's several round trips, through the
functions of migration 0004 and a plain asyncpg pool (prepared statements, no
ORM on the hot path).

Group commit: alerts that arrive while a batch is being written wait for the
next one, and each batch is one call, one transaction, one commit (one WAL
flush) for all of them. Under light load a batch holds one alert, so latency
stays one round trip; under heavy load batches grow and round trips per
alert shrink. A 202 is still sent only after the alert's batch committed.
"""

import asyncio
import logging
import uuid
from datetime import datetime
from typing import Any, NamedTuple

import asyncpg
import orjson
from sqlalchemy.engine import make_url

from alert_ingestion import metrics

log = logging.getLogger(__name__)

_CALL_ONE = "SELECT action, incident_id FROM ingest_alert($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14,$15)"
_CALL_MANY = (
    "SELECT ord, action, incident_id FROM ingest_alerts("
    "$1::uuid[],$2::uuid[],$3::text[],$4::text[],$5::text[],$6::text[],$7::text[],$8::text[],$9::json[],"
    "$10::text[],$11::text[],$12::timestamptz[],$13::json[],$14,$15)"
)


def to_json(value: Any) -> str | None:
    return None if value is None else orjson.dumps(value, default=str).decode()


class Row(NamedTuple):
    """One alert as the functions take it (labels and payload as JSON text).
    A tuple already, so it goes to asyncpg as is (dataclasses.astuple deep-copies
    every field: measurable on the hot path)."""

    alert_id: uuid.UUID
    integration_id: uuid.UUID | None
    scope: str
    format: str
    source: str
    service: str
    severity: str
    message: str
    labels: str | None
    fingerprint: str
    dedup_key: str | None
    event_timestamp: datetime | None
    payload: str | None


Result = tuple[str, uuid.UUID | None]


def _uuid(value: Any) -> uuid.UUID | None:
    return None if value is None else uuid.UUID(bytes=value.bytes)


class FastPath:
    def __init__(self, pool: asyncpg.Pool, *, max_batch: int, max_inflight: int, group_commit: bool) -> None:
        self.pool = pool
        self.max_batch = max_batch
        self.max_inflight = max_inflight
        self.group_commit = group_commit
        self._pending: list[tuple[Row, datetime, datetime, asyncio.Future[Result]]] = []
        self._inflight = 0
        # Held so the event loop cannot garbage-collect a batch being written.
        self._tasks: set[asyncio.Task[None]] = set()

    @classmethod
    async def connect(
        cls, database_url: str, *, size: int, max_batch: int = 200, max_inflight: int = 2, group_commit: bool = True
    ) -> "FastPath":
        dsn = make_url(database_url).set(drivername="postgresql").render_as_string(hide_password=False)
        # min_size=0: the service starts (and says so in readiness) while PostgreSQL is down.
        pool = await asyncpg.create_pool(dsn, min_size=0, max_size=size)
        return cls(pool, max_batch=max_batch, max_inflight=max_inflight, group_commit=group_commit)

    async def ingest(self, row: Row, *, now: datetime, since: datetime) -> Result:
        """('deduplicated'|'correlated', incident id), committed; or ('create', None), nothing stored."""
        if not self.group_commit:
            record = await self.pool.fetchrow(_CALL_ONE, *row, now, since)
            return record["action"], _uuid(record["incident_id"])
        future: asyncio.Future[Result] = asyncio.get_running_loop().create_future()
        self._pending.append((row, now, since, future))
        if self._inflight < self.max_inflight:
            self._inflight += 1
            task = asyncio.create_task(self._drain())
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
        return await future

    async def _drain(self) -> None:
        try:
            while self._pending:
                batch = self._pending[: self.max_batch]
                del self._pending[: self.max_batch]
                await self._write(batch)
        finally:
            self._inflight -= 1

    async def _write(self, batch: list[tuple[Row, datetime, datetime, asyncio.Future[Result]]]) -> None:
        metrics.INGEST_BATCH_SIZE.observe(len(batch))
        try:
            if len(batch) == 1:
                row, now, since, _ = batch[0]
                record = await self.pool.fetchrow(_CALL_ONE, *row, now, since)
                results = {1: (record["action"], _uuid(record["incident_id"]))}
            else:
                columns = list(zip(*(row for row, _, _, _ in batch), strict=True))
                # One `now` and window for the batch: they were received within a round trip of each other.
                _, now, since, _ = batch[-1]
                records = await self.pool.fetch(_CALL_MANY, *columns, now, since)
                results = {r["ord"]: (r["action"], _uuid(r["incident_id"])) for r in records}
        except Exception as exc:  # every waiting request gets the error (503 for the database)
            for *_, future in batch:
                if not future.done():
                    future.set_exception(exc)
            return
        for position, (*_, future) in enumerate(batch, start=1):
            if not future.done():
                future.set_result(results[position])

    async def close(self) -> None:
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)
        await self.pool.close()
