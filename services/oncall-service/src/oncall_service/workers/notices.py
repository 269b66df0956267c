"""The "you are on call" loop: each cycle stores the shift notices due (starts, ends,
weekly summaries; once each by key) and sends those owed through notification-service.

Why here: oncall-service owns the schedules and computes their shifts; another
service would have to ask for every schedule's shifts on every cycle. Any replica
may run it: notices are stored under a unique key and sent from a lease queue."""

import logging
import time
from datetime import timedelta

from oncall_service.clients.notifications import Notice, NoticeRejected, NoticeUnavailable, NotificationClient
from oncall_service.config import Settings
from oncall_service.metrics import NOTICE_CYCLE, NOTICES
from oncall_service.usecases import notices
from platform_common.clock import Clock
from platform_common.db import Database
from platform_common.worker import Worker

log = logging.getLogger(__name__)


class NoticeLoop:
    """Stores and sends shift notices; one per replica."""

    def __init__(self, *, db: Database, clock: Clock, settings: Settings, client: NotificationClient) -> None:
        self.db = db
        self.clock = clock
        self.settings = settings
        self.client = client
        self.worker = Worker(
            "shift-notices",
            self._cycle,
            interval=settings.oncall_notice_interval_seconds,
            grace=settings.graceful_shutdown_seconds,
        )

    async def _cycle(self) -> bool:
        started = time.perf_counter()
        try:
            return await self.run_once()
        finally:
            NOTICE_CYCLE.observe(time.perf_counter() - started)

    async def run_once(self) -> bool:
        """One cycle; True when a full batch was claimed (more may be due at once)."""
        now = self.clock.now()
        lookback = timedelta(minutes=self.settings.oncall_notice_lookback_minutes)
        async with self.db.sessionmaker() as session, session.begin():
            await notices.owe_due_notices(session, now=now, lookback=lookback)
        async with self.db.sessionmaker() as session, session.begin():
            claimed = await notices.claim_notices(
                session, now=now, lease=timedelta(seconds=60), limit=self.settings.oncall_notice_batch_size
            )
        for notice in claimed:
            await self._send(notice)
        return len(claimed) >= self.settings.oncall_notice_batch_size

    async def _send(self, notice: Notice) -> None:
        """Send one notice (no transaction open meanwhile), then record what became of it."""
        error, final = None, False
        try:
            await self.client.notify(notice)
            NOTICES.labels(kind=notice.event, result="sent").inc()
        except NoticeUnavailable as exc:
            error = str(exc)
            NOTICES.labels(kind=notice.event, result="retry").inc()
        except NoticeRejected as exc:
            error, final = str(exc), True
            NOTICES.labels(kind=notice.event, result="failed").inc()
        async with self.db.sessionmaker() as session, session.begin():
            await notices.record(
                session,
                key=notice.idempotency_key,
                error=error,
                final=final,
                now=self.clock.now(),
                retry_base=self.settings.oncall_notice_retry_base_seconds,
                retry_cap=self.settings.oncall_notice_retry_max_seconds,
            )
