"""The alerts' monthly partitions (migrations 0019_alert_partitions, 0020_alert_retention):
each cycle creates them ALERT_PARTITIONS_AHEAD months ahead, so alerts land in their month's
partition and not in the default one (which takes them meanwhile: an insert never fails),
and, with ALERT_RETENTION_ENABLED, drops one month per transaction (emptied, then dropped)
each month wholly older than ALERT_RETENTION_DAYS that holds no alert still needed: none of
an incident unresolved, resolved within the retention or not opened yet, and no open opener
(open alerts of resolved incidents in those months are resolved first, as ingestion would).
The database functions decide that and take an advisory lock, so every replica may run it."""

import logging

from sqlalchemy import text

from alert_ingestion.metrics import ALERT_PARTITIONS_DROPPED
from platform_common.clock import Clock
from platform_common.db import Database
from platform_common.partitions import retention_cutoff, retire_months
from platform_common.worker import Worker

log = logging.getLogger(__name__)

ADD = text("SELECT alerts_add_partitions(:now, :months)")
EMPTY = text("SELECT alerts_empty_partition(:cutoff)")
DROP = text("SELECT alerts_drop_partition(:cutoff)")
# An incident's alerts end with it: ingest_alerts() resolves an open alert whose incident a
# responder resolved when its fingerprint next fires. One that never fires again would stay an
# open opener and hold its month forever, so retention resolves those of the months it may drop
# first (the UPDATE fires the trigger that removes its alert_open_openers row).
RESOLVE_STALE = text(
    "UPDATE alerts a SET status = 'resolved', resolved_at = :now FROM incident_states s"
    " WHERE a.received_at < :cutoff AND a.status <> 'resolved' AND s.id = a.incident_id AND s.status = 'resolved'"
)


class AlertPartitions:
    """Keeps the alerts' partitions created ahead and, given `retention_days`, dropped after it."""

    def __init__(
        self, db: Database, clock: Clock, *, ahead: int, retention_days: int | None, interval: float, grace: float
    ) -> None:
        self.db = db
        self.clock = clock
        self.ahead = ahead
        self.retention_days = retention_days
        self.worker = Worker("alert-partitions", self._cycle, interval=interval, grace=grace)

    async def _cycle(self) -> bool:
        await self.cycle()
        return False

    async def cycle(self) -> tuple[int, list[str]]:
        """Create the missing months from this one to `ahead` months on, drop the expired ones;
        returns how many were created and the names dropped."""
        now = self.clock.now()
        async with self.db.sessionmaker() as session, session.begin():
            created = (await session.execute(ADD, {"now": now, "months": self.ahead})).scalar_one()
        if created:
            log.info("alert partitions created", extra={"partitions": created})
        if self.retention_days is None:
            return created, []
        cutoff = retention_cutoff(now, self.retention_days)
        async with self.db.sessionmaker() as session, session.begin():
            stale = (await session.execute(RESOLVE_STALE, {"now": now, "cutoff": cutoff})).rowcount
        if stale:
            log.info("stale alerts resolved", extra={"alerts": stale})
        dropped = await retire_months(self.db, empty=EMPTY, drop=DROP, cutoff=cutoff)
        ALERT_PARTITIONS_DROPPED.inc(len(dropped))
        return created, dropped
