"""The timeline's retention (migration 0018_retention): each cycle creates the monthly
partitions INCIDENT_TIMELINE_PARTITIONS_AHEAD months ahead and drops, one per transaction,
the partitions wholly older than INCIDENT_TIMELINE_RETENTION_DAYS (emptied, then dropped) that hold no entry of an
incident still unresolved or resolved within the retention (the database function checks
that, so every replica may run it; an advisory lock serializes them)."""

import logging

from sqlalchemy import text

from incident_management.metrics import TIMELINE_PARTITIONS_DROPPED, TIMELINE_ROWS
from platform_common.clock import Clock
from platform_common.db import Database
from platform_common.partitions import retention_cutoff, retire_months
from platform_common.worker import Worker

log = logging.getLogger(__name__)

ADD = text("SELECT incident_timeline_add_partitions(:now, :months)")
EMPTY = text("SELECT incident_timeline_empty_partition(:cutoff)")
DROP = text("SELECT incident_timeline_drop_partition(:cutoff)")
# The planner's estimate: a count(*) of the whole timeline each cycle would cost what retention saves.
ROWS = text(
    "SELECT coalesce(sum(greatest(c.reltuples, 0)), 0)::bigint FROM pg_inherits i"
    " JOIN pg_class c ON c.oid = i.inhrelid WHERE i.inhparent = 'incident_timeline'::regclass"
)


class TimelineRetention:
    """Keeps the timeline's partitions created ahead and dropped after the retention."""

    def __init__(self, db: Database, clock: Clock, *, days: int, ahead: int, interval: float, grace: float) -> None:
        self.db = db
        self.clock = clock
        self.days = days
        self.ahead = ahead
        self.worker = Worker("timeline-retention", self._cycle, interval=interval, grace=grace)

    async def _cycle(self) -> bool:
        await self.cycle()
        return False

    async def cycle(self) -> list[str]:
        """Create the partitions ahead, drop the expired ones; returns the names dropped."""
        now = self.clock.now()
        async with self.db.sessionmaker() as session, session.begin():
            created = (await session.execute(ADD, {"now": now, "months": self.ahead})).scalar_one()
        if created:
            log.info("timeline partitions created", extra={"partitions": created})
        dropped = await retire_months(self.db, empty=EMPTY, drop=DROP, cutoff=retention_cutoff(now, self.days))
        TIMELINE_PARTITIONS_DROPPED.inc(len(dropped))
        async with self.db.sessionmaker() as session:
            TIMELINE_ROWS.set((await session.execute(ROWS)).scalar_one())
        return dropped

    def start(self) -> None:
        """Start the loop (a task of the running event loop)."""
        self.worker.start()

    async def stop(self) -> None:
        """Let a cycle in flight finish within the grace period."""
        await self.worker.stop()
