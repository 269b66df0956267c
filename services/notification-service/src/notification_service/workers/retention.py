"""The notifications' retention: a notify request older than NOTIFICATION_RETENTION_DAYS
goes with its notifications and attempts once none of them is still being delivered or
owes its caller a report (migration 0022_notification_retention says why batches of rows
and not monthly partitions). One batch per transaction, so row locks are held for
milliseconds; every replica may run it (each skips the rows another holds). The pages
themselves stay in incident-management's history (incident_pages), kept with the incidents."""

import logging
from datetime import timedelta

from notification_service.db import queries
from notification_service.metrics import NOTIFICATION_REQUESTS_DELETED
from platform_common.clock import Clock
from platform_common.db import Database
from platform_common.worker import Worker

log = logging.getLogger(__name__)


class NotificationRetention:
    """Deletes expired notify requests, a batch per cycle, at once again while batches come full."""

    def __init__(self, db: Database, clock: Clock, *, days: int, batch: int, interval: float, grace: float) -> None:
        self.db = db
        self.clock = clock
        self.days = days
        self.batch = batch
        self.worker = Worker("notification-retention", self.cycle, interval=interval, grace=grace)

    async def cycle(self) -> bool:
        """Delete one batch; True when it came full (more may be expired)."""
        cutoff = self.clock.now() - timedelta(days=self.days)
        async with self.db.sessionmaker() as session, session.begin():
            deleted = await queries.delete_expired_requests(session, created_before=cutoff, limit=self.batch)
        if deleted:
            NOTIFICATION_REQUESTS_DELETED.inc(deleted)
            log.info("expired notify requests deleted", extra={"requests": deleted})
        return deleted == self.batch

    def start(self) -> None:
        """Start the loop (a task of the running event loop)."""
        self.worker.start()

    async def stop(self) -> None:
        """Let a batch in flight finish within the grace period."""
        await self.worker.stop()
