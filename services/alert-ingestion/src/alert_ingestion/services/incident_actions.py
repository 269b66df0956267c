"""Sending the acknowledge/resolve calls ingestion owes incident-management.

Each owed call is a row written with the alert change. It is claimed with a
short lease (so replicas and the immediate send after commit never send the
same row at once), sent outside any transaction (no connection or row lock
is held for the length of an HTTP call), and then marked done, or
retried later with exponential backoff, or marked failed after too many tries.
"""

import asyncio
import logging
import uuid
from collections.abc import Callable
from datetime import datetime, timedelta

from alert_ingestion import metrics
from alert_ingestion.db import queries
from alert_ingestion.domain.retry import next_attempt
from alert_ingestion.services.incident_gateway import IncidentGateway
from platform_common.db import Database

log = logging.getLogger(__name__)

LEASE = timedelta(seconds=60)


class IncidentActionSender:
    def __init__(
        self, db: Database, incidents: IncidentGateway, now: Callable[[], datetime], *, max_attempts: int
    ) -> None:
        self.db = db
        self.incidents = incidents
        self.now = now
        self.max_attempts = max_attempts
        self._tasks: set[asyncio.Task[int]] = set()
        # One send at a time, in the order requests committed them (asyncio.Lock
        # is FIFO): a sender's acknowledge then resolve must not overtake each other.
        self._in_order = asyncio.Lock()

    def send_soon(self, ids: list[uuid.UUID]) -> None:
        """Send just-committed actions in the background; the sender's 202 does not wait."""
        task = asyncio.create_task(self.send_due(ids=ids))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def send_due(self, *, ids: list[uuid.UUID] | None = None, limit: int = 50) -> int:
        """Send what is due (or just `ids`); returns how many were tried."""
        async with self._in_order:
            now = self.now()
            async with self.db.engine.begin() as conn:
                claimed = await queries.claim_actions(conn, now=now, lease_until=now + LEASE, limit=limit, ids=ids)
            for action in claimed:
                await self._send(action.id, action.incident_id, action.action, action.attempts)
            return len(claimed)

    async def _send(self, action_id: uuid.UUID, incident_id: uuid.UUID, action: str, attempts: int) -> None:
        if action == "resolve" and await self._superseded(incident_id):
            result, error = "done", "superseded: a new alert joined the incident"
        else:
            result, error = await self.incidents.set_status(incident_id=incident_id, action=action)
        attempts += 1
        now = self.now()
        status = "done" if result == "done" else "failed" if attempts >= self.max_attempts else "pending"
        metrics.INCIDENT_ACTIONS.labels(action, status if status != "pending" else "retry").inc()
        if status != "done":
            log.warning(
                "incident %s not sent",
                action,
                extra={"incident_id": str(incident_id), "error": error, "status": status},
            )
        async with self.db.engine.begin() as conn:
            await queries.finish_action(
                conn,
                action_id=action_id,
                status=status,
                attempts=attempts,
                next_attempt_at=next_attempt(now, attempts),
                error=error,
                now=now,
            )

    async def _superseded(self, incident_id: uuid.UUID) -> bool:
        async with self.db.engine.connect() as conn:
            return await queries.has_open_alerts(conn, incident_id=incident_id)

    async def run(self, interval: float) -> None:
        """The retry loop: every `interval` seconds, send what is due."""
        while True:
            try:
                while await self.send_due() > 0:
                    pass
            except Exception:  # the loop must outlive a database blip; the cause is logged
                log.exception("incident action loop failed; retrying next cycle")
            await asyncio.sleep(interval)

    async def drain(self) -> None:
        """Wait for the background sends started by requests (at shutdown)."""
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)
