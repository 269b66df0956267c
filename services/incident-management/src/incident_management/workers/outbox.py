"""The page outbox: hands queued pages to notification-service (kept and retried
while it is down; never sent twice thanks to each page's idempotency key) and
folds delivery results back into the timeline."""

import asyncio
import logging
import uuid
from datetime import timedelta

from incident_management.clients.notifications import (
    NotificationClient,
    NotificationRejected,
    NotificationUnavailable,
    PageRequest,
)
from incident_management.config import Settings
from incident_management.db import queries
from incident_management.metrics import PAGES
from incident_management.services import paging
from incident_management.workers.report import CycleReport
from platform_common.clock import Clock
from platform_common.db import Database
from platform_db.models import Incident

log = logging.getLogger(__name__)


class PageOutbox:
    """Sends due pages and follows their deliveries; part of the incident loop."""

    def __init__(self, *, db: Database, clock: Clock, settings: Settings, notifications: NotificationClient) -> None:
        self.db = db
        self.clock = clock
        self.settings = settings
        self.notifications = notifications

    @property
    def _lease(self) -> timedelta:
        return timedelta(seconds=self.settings.incident_claim_lease_seconds)

    async def send_pages(self, report: CycleReport) -> None:
        """Hand every due page to notification-service (or cancel it if no longer wanted)."""
        now = self.clock.now()
        async with self.db.sessionmaker() as session, session.begin():
            claimed = await queries.claim_pages(
                session,
                now=now,
                lease_until=now + self._lease,
                limit=self.settings.incident_worker_batch_size,
                tracking=False,
            )
            requests: list[tuple[uuid.UUID, PageRequest]] = []
            incidents: dict[uuid.UUID, Incident | None] = {}
            for page in claimed:
                if page.incident_id not in incidents:
                    incidents[page.incident_id] = await queries.get_incident(session, incident_id=page.incident_id)
                incident = incidents[page.incident_id]
                if incident is None or not paging.still_wanted(page, incident):
                    await paging.cancel(session, page=page, now=now)
                    PAGES.labels(result="cancelled").inc()
                    continue
                requests.append(
                    (
                        page.id,
                        PageRequest(
                            idempotency_key=page.idempotency_key,
                            event=page.event,
                            user_id=page.recipient,
                            incident=paging.incident_payload(incident, self.settings.ui_base_url),
                        ),
                    )
                )
        # A few pages in flight at once: a burst of escalations is paged in
        # seconds, without flooding notification-service.
        limit = asyncio.Semaphore(self.settings.incident_worker_concurrency)
        outage: list[str] = []

        async def send(page_id: uuid.UUID, request: PageRequest) -> None:
            async with limit:
                result: list[dict[str, object]] | Exception
                if outage:  # it just failed: the rest wait for their retry time
                    result = NotificationUnavailable(outage[0])
                else:
                    try:
                        result = await self.notifications.notify(request)
                    except NotificationUnavailable as exc:
                        outage.append(str(exc))
                        result = exc
                    except NotificationRejected as exc:
                        result = exc
                try:
                    await self._finish_page(page_id, result, report)
                except Exception as exc:
                    log.exception("recording a page failed", extra={"page_id": str(page_id)})
                    report.errors.append(f"page {page_id}: {type(exc).__name__}")

        await asyncio.gather(*(send(page_id, request) for page_id, request in requests))

    async def _finish_page(self, page_id: uuid.UUID, result: object, report: CycleReport) -> None:
        now = self.clock.now()
        async with self.db.sessionmaker() as session, session.begin():
            page = await queries.get_page(session, page_id=page_id)
            if page is None:
                return
            if isinstance(result, NotificationUnavailable):
                await paging.record_unavailable(
                    session,
                    page=page,
                    error=str(result),
                    now=now,
                    retry_base=self.settings.incident_retry_base_seconds,
                    retry_cap=self.settings.incident_retry_max_seconds,
                )
                report.pages_retrying += 1
                PAGES.labels(result="retry").inc()
            elif isinstance(result, NotificationRejected):
                await paging.record_rejected(session, page=page, error=str(result), now=now)
                PAGES.labels(result="failed").inc()
            else:
                assert isinstance(result, list)
                await paging.record_sent(
                    session,
                    page=page,
                    deliveries=result,
                    now=now,
                    poll_after=timedelta(seconds=self.settings.incident_delivery_poll_seconds),
                )
                report.pages_sent += 1
                PAGES.labels(result="sent").inc()

    async def check_deliveries(self, report: CycleReport) -> None:
        """Read back what became of sent pages' deliveries, one call per incident."""
        now = self.clock.now()
        async with self.db.sessionmaker() as session, session.begin():
            claimed = await queries.claim_pages(
                session,
                now=now,
                lease_until=now + self._lease,
                limit=self.settings.incident_worker_batch_size,
                tracking=True,
            )
            by_incident: dict[uuid.UUID, list[uuid.UUID]] = {}
            for page in claimed:
                by_incident.setdefault(page.incident_id, []).append(page.id)
        for incident_id, page_ids in by_incident.items():
            try:
                found = await self.notifications.deliveries(incident_id)
            except NotificationUnavailable:
                found = {}  # look again after the poll interval
            try:
                await self._finish_tracking(page_ids, found)
                report.deliveries_checked += len(page_ids)
            except Exception as exc:
                log.exception("recording delivery results failed", extra={"incident_id": str(incident_id)})
                report.errors.append(f"deliveries {incident_id}: {type(exc).__name__}")

    async def _finish_tracking(self, page_ids: list[uuid.UUID], found: dict[str, dict[str, object]]) -> None:
        now = self.clock.now()
        async with self.db.sessionmaker() as session, session.begin():
            for page_id in page_ids:
                page = await queries.get_page(session, page_id=page_id)
                if page is None or not page.tracking:
                    continue
                await paging.record_deliveries(
                    session,
                    page=page,
                    found=found,
                    now=now,
                    poll_after=timedelta(seconds=self.settings.incident_delivery_poll_seconds),
                    give_up_after=timedelta(hours=self.settings.incident_delivery_tracking_hours),
                )
