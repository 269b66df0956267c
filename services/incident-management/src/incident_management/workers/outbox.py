"""The page outbox: hands queued pages to notification-service (kept and retried
while it is down; never sent twice thanks to each page's idempotency key), with
the recipient's contact methods and the URL where notification-service reports
each delivery's final result (`POST /api/v1/incidents/{id}/deliveries`)."""

import asyncio
import logging
import uuid
from dataclasses import replace
from datetime import timedelta

from incident_management.clients.notifications import (
    NotificationClient,
    NotificationRejected,
    NotificationUnavailable,
    PageRequest,
)
from incident_management.clients.oncall import OncallClient, OncallUnavailable
from incident_management.config import Settings
from incident_management.db import pages, queries
from incident_management.metrics import PAGES
from incident_management.usecases import links, paging
from incident_management.workers.report import CycleReport
from platform_common.clock import Clock
from platform_common.db import Database
from platform_db.models import Incident, Page

log = logging.getLogger(__name__)


class PageOutbox:
    """Sends due pages; part of the incident loop."""

    def __init__(
        self,
        *,
        db: Database,
        clock: Clock,
        settings: Settings,
        notifications: NotificationClient,
        oncall: OncallClient,
    ) -> None:
        self.db = db
        self.clock = clock
        self.settings = settings
        self.notifications = notifications
        self.oncall = oncall
        self.links = links.signer_for(settings)

    def _actions(self, request: PageRequest) -> dict[str, str] | None:
        # Made as the page goes out, so each send's links are fresh for LINK_TTL_HOURS.
        return links.page_actions(
            self.links,
            incident_id=uuid.UUID(request.incident["id"]),
            recipient=request.user_id,
            contact=request.contact,
            ui_base_url=self.settings.ui_base_url,
        )

    def _callback_url(self, incident_id: uuid.UUID) -> str:
        return f"{self.settings.incident_service_url.rstrip('/')}/api/v1/incidents/{incident_id}/deliveries"

    @property
    def _lease(self) -> timedelta:
        return timedelta(seconds=self.settings.incident_claim_lease_seconds)

    async def send_pages(self, report: CycleReport) -> None:
        """Hand every due page to notification-service (or cancel it if no longer wanted)."""
        claimed = await self._claim()
        # A few pages in flight at once: a burst of escalations is paged in
        # seconds, without flooding notification-service.
        limit = asyncio.Semaphore(self.settings.incident_worker_concurrency)
        outage: list[str] = []

        async def send(page_id: uuid.UUID, request: PageRequest, lookup: bool) -> None:
            async with limit:
                result = await self._send(request, lookup, outage)
                try:
                    await self._finish_page(page_id, result, report)
                except Exception as exc:
                    log.exception("recording a page failed", extra={"page_id": str(page_id)})
                    report.errors.append(f"page {page_id}: {type(exc).__name__}")

        await asyncio.gather(*(send(page_id, request, lookup) for page_id, request, lookup in claimed))

    async def _claim(self) -> list[tuple[uuid.UUID, PageRequest, bool]]:
        """Claim the due pages and cancel those no longer wanted; for each of the rest, its
        request, and whether its recipient's contact methods are still to be looked up."""
        now = self.clock.now()
        async with self.db.sessionmaker() as session, session.begin():
            claimed = await pages.claim_pages(
                session, now=now, lease_until=now + self._lease, limit=self.settings.incident_worker_batch_size
            )
            incidents: dict[uuid.UUID, Incident | None] = {}
            requests = []
            for page in claimed:
                if page.incident_id not in incidents:
                    incidents[page.incident_id] = await queries.get_incident(session, incident_id=page.incident_id)
                incident = incidents[page.incident_id]
                if incident is None or not paging.still_wanted(page, incident):
                    paging.cancel(page, now=now)
                    PAGES.labels(result="cancelled").inc()
                    continue
                # Chosen by hand: the on-call answer did not bring the contact methods.
                requests.append((page.id, self._request(page, incident), page.contact is None))
        return requests

    def _request(self, page: Page, incident: Incident) -> PageRequest:
        return PageRequest(
            idempotency_key=page.idempotency_key,
            event=page.event,
            user_id=page.recipient,
            incident=paging.incident_payload(incident, self.settings.ui_base_url),
            contact=page.contact or {},
            callback_url=self._callback_url(page.incident_id),
            message=page.message,
        )

    async def _send(self, request: PageRequest, lookup: bool, outage: list[str]) -> list[dict[str, object]] | Exception:
        """notification-service's deliveries of the page, or why it did not take it."""
        if outage:  # it just failed: the rest wait for their retry time
            return NotificationUnavailable(outage[0])
        try:
            if lookup:
                request = replace(request, contact=await self.oncall.contact(request.user_id))
            return await self.notifications.notify(replace(request, actions=self._actions(request)))
        except OncallUnavailable as exc:
            return NotificationUnavailable(str(exc))
        except NotificationUnavailable as exc:
            outage.append(str(exc))
            return exc
        except NotificationRejected as exc:
            return exc

    async def _finish_page(self, page_id: uuid.UUID, result: object, report: CycleReport) -> None:
        now = self.clock.now()
        async with self.db.sessionmaker() as session, session.begin():
            page = await pages.get_page(session, page_id=page_id)
            if page is None:
                return
            if isinstance(result, NotificationUnavailable):
                paging.record_unavailable(
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
                paging.record_rejected(session, page=page, error=str(result), now=now)
                PAGES.labels(result="failed").inc()
            else:
                assert isinstance(result, list)
                paging.record_sent(session, page=page, deliveries=result, now=now)
                report.pages_sent += 1
                PAGES.labels(result="sent").inc()
