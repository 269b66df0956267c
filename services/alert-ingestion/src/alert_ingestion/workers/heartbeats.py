"""The heartbeat watch: raises an alert for each late heartbeat, once per miss, in any one replica
(claimed with a lease, platform_common.queue); the alert goes the ordinary alert path."""

import logging
from datetime import timedelta

from alert_ingestion.db import heartbeats as queries
from alert_ingestion.domain import heartbeat as rules
from alert_ingestion.usecases.heartbeats import resolve_miss
from alert_ingestion.usecases.ingest import Ingestor
from platform_common.db import Database
from platform_common.worker import Worker
from platform_db.models import Heartbeat

log = logging.getLogger(__name__)
LEASE = timedelta(seconds=60)


class HeartbeatWatch:
    """The loop that raises an alert for each late heartbeat, once per miss, in any one replica."""

    def __init__(self, db: Database, ingestor: Ingestor, *, interval: float, grace: float, batch: int = 100) -> None:
        self.db = db
        self.ingestor = ingestor
        self.batch = batch
        self.worker = Worker("heartbeat-watch", self._cycle, interval=interval, grace=grace)

    async def _cycle(self) -> bool:
        now = self.ingestor.now()
        async with self.db.sessionmaker() as session, session.begin():
            late = await queries.claim_late(session, now=now, lease=LEASE, limit=self.batch)
        for heartbeat in late:
            try:
                await self._report(heartbeat)
            except Exception:  # the lease runs out and another cycle tries again; the dedup key makes it once
                log.exception("heartbeat miss not reported", extra={"heartbeat_id": str(heartbeat.id)})
        return len(late) == self.batch

    async def _report(self, heartbeat: Heartbeat) -> None:
        """Raise the miss's alert (no transaction open), then record it; a ping that came meanwhile
        resolves the alert at once."""
        alert = rules.missed(
            heartbeat_id=str(heartbeat.id),
            name=heartbeat.name,
            service=heartbeat.service,
            since=heartbeat.due_at,
            interval_seconds=heartbeat.interval_seconds,
        )
        await self.ingestor.ingest(alert, integration_id=None)
        async with self.db.sessionmaker() as session, session.begin():
            recorded = await queries.mark_missed(session, heartbeat_id=heartbeat.id, due_at=heartbeat.due_at)
        if not recorded:
            await resolve_miss(self.ingestor, heartbeat)
        log.warning("heartbeat missed", extra={"heartbeat_id": str(heartbeat.id), "service": heartbeat.service})
