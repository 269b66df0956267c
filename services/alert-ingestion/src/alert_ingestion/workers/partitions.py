"""The alerts' monthly partitions (migration 0019_alert_partitions): each cycle creates
them ALERT_PARTITIONS_AHEAD months ahead, so alerts land in their month's partition and
not in the default one (which takes them meanwhile: an insert never fails). Every replica
may run it; the database function takes an advisory lock and creates only what is missing.
Old months are not dropped yet (no retention for alerts)."""

import logging

from sqlalchemy import text

from platform_common.clock import Clock
from platform_common.db import Database
from platform_common.worker import Worker

log = logging.getLogger(__name__)

ADD = text("SELECT alerts_add_partitions(:now, :months)")


class AlertPartitions:
    """Keeps the alerts' partitions created ahead."""

    def __init__(self, db: Database, clock: Clock, *, ahead: int, interval: float, grace: float) -> None:
        self.db = db
        self.clock = clock
        self.ahead = ahead
        self.worker = Worker("alert-partitions", self._cycle, interval=interval, grace=grace)

    async def _cycle(self) -> bool:
        await self.cycle()
        return False

    async def cycle(self) -> int:
        """Create the missing months from this one to `ahead` months on; returns how many."""
        async with self.db.sessionmaker() as session, session.begin():
            created = (await session.execute(ADD, {"now": self.clock.now(), "months": self.ahead})).scalar_one()
        if created:
            log.info("alert partitions created", extra={"partitions": created})
        return created
