"""Writing trigger alerts through ingest_alerts(), the database function that is
the dedup and correlation rule (database/sql/0013_grouping/ingest_alerts.sql), over a plain
asyncpg pool (prepared statements, no ORM on the hot path).

Group commit: alerts that arrive while a batch is being written wait for the
next one, and each batch is one call, one transaction, one commit (one WAL
flush) for all of them. Under light load a batch holds one alert, so latency
stays one round trip; under heavy load batches grow and round trips per alert
shrink. A 202 is still sent only after the alert's batch committed.
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

_CALL = (
    "SELECT ord, outcome, incident, owed, alert FROM ingest_alerts("
    "$1::uuid[],$2::uuid[],$3::text[],$4::text[],$5::text[],$6::text[],$7::text[],$8::text[],$9::json[],"
    "$10::text[],$11::text[],$12::timestamptz[],$13::json[],$14,$15)"
)


def to_json(value: Any) -> str | None:
    """A value as a JSON string for asyncpg; None stays None."""
    return None if value is None else orjson.dumps(value, default=str).decode()


class Row(NamedTuple):
    """One alert as the function takes it (labels and payload as JSON text).
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


class Written(NamedTuple):
    """What the rule decided: the outcome, the incident, the action owed to incident-management
    (a 'create' for a new incident, an 'alert_joined' for one already acknowledged), and the
    alert row: the new one, or for a repeat the one it counted on."""

    outcome: str
    incident_id: uuid.UUID
    owed_id: uuid.UUID | None
    alert_id: uuid.UUID


def _uuid(value: Any) -> uuid.UUID | None:
    return None if value is None else uuid.UUID(bytes=value.bytes)


Pending = tuple[Row, datetime, float, "asyncio.Future[Written]"]

# Batches written at once per process: while one commits, the next fills. 1, 2
# and 4 measured within noise (bench/ingest.py); two hold two connections.
MAX_INFLIGHT = 2


class AlertWriter:
    """Writes alerts through the database functions, alerts arriving together in one batch (group commit)."""

    def __init__(self, pool: asyncpg.Pool, *, max_batch: int) -> None:
        self.pool = pool
        self.max_batch = max_batch
        self._pending: list[Pending] = []
        self._inflight = 0
        # Held so the event loop cannot garbage-collect a batch being written.
        self._tasks: set[asyncio.Task[None]] = set()

    @classmethod
    async def connect(cls, database_url: str, *, max_batch: int) -> "AlertWriter":
        """A writer with its own asyncpg pool, one connection per batch in flight."""
        dsn = make_url(database_url).set(drivername="postgresql").render_as_string(hide_password=False)
        # A connection per batch in flight, and one for acknowledges and resolves;
        # min_size=0: the service starts (and says so in readiness) while PostgreSQL is down.
        pool = await asyncpg.create_pool(dsn, min_size=0, max_size=MAX_INFLIGHT + 1)
        return cls(pool, max_batch=max_batch)

    async def write(self, row: Row, *, now: datetime, default_window_minutes: float) -> Written:
        """Store one trigger alert, deduplicated or correlated or opening an incident; committed on return.
        `default_window_minutes` is the correlation window of services that set none (0: off)."""
        future: asyncio.Future[Written] = asyncio.get_running_loop().create_future()
        self._pending.append((row, now, default_window_minutes, future))
        if self._inflight < MAX_INFLIGHT:
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

    async def _write(self, batch: list[Pending]) -> None:
        metrics.INGEST_BATCH_SIZE.observe(len(batch))
        try:
            columns = list(zip(*(row for row, _, _, _ in batch), strict=True))
            # One `now` and default window for the batch: they were received within a round trip of each other.
            _, now, window, _ = batch[-1]
            records = await self.pool.fetch(_CALL, *columns, now, window)
            results = {
                r["ord"]: Written(r["outcome"], _uuid(r["incident"]), _uuid(r["owed"]), _uuid(r["alert"]))
                for r in records
            }
        except Exception as exc:  # every waiting request gets the error (503 for the database)
            for *_, future in batch:
                if not future.done():
                    future.set_exception(exc)
            return
        for position, (*_, future) in enumerate(batch, start=1):
            if not future.done():
                future.set_result(results[position])

    async def close(self) -> None:
        """Wait for the batches in flight, then close the pool."""
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)
        await self.pool.close()

    async def close_alerts(
        self, *, scope: str, fingerprint: str, acknowledge: bool, auto_resolve: bool, now: datetime
    ) -> "Closed":
        """Acknowledge or resolve the open alerts of one dedup key through close_alerts(); committed on return."""
        records = await self.pool.fetch(_CLOSE, scope, fingerprint, acknowledge, auto_resolve, now)
        alerts = [r for r in records if r["alert"] is not None]
        return Closed(
            alert_ids=[_uuid(r["alert"]) for r in alerts],
            incident_ids=[_uuid(r["incident"]) for r in alerts if r["incident"] is not None],
            owed_ids=[_uuid(r["owed"]) for r in records if r["owed"] is not None],
        )


_CLOSE = "SELECT alert, incident, owed FROM close_alerts($1, $2, $3, $4, $5)"


class Closed(NamedTuple):
    """The alerts and incidents a resolve closed."""

    alert_ids: list[uuid.UUID]
    incident_ids: list[uuid.UUID]
    owed_ids: list[uuid.UUID]
