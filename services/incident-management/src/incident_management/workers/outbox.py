"""The page outbox: hands queued pages to notification-service (kept and retried
while it is down; never sent twice thanks to each page's idempotency key), with
the recipient's contact methods and the URL where notification-service reports
each delivery's final result (`POST /api/v1/incidents/{id}/deliveries`). A page
whose recipient was chosen by hand (an assignment, a snooze's end) learns their
contact methods and notification rules here, and follows those rules as an
on-call page does: its row becomes the first step, later steps join the outbox."""

import asyncio
import logging
import uuid
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from functools import partial

from sqlalchemy.ext.asyncio import AsyncSession

from incident_management.clients.notifications import (
    NotificationClient,
    NotificationRejected,
    NotificationUnavailable,
    PageRequest,
)
from incident_management.clients.oncall import OncallClient, OncallUnavailable
from incident_management.config import Settings
from incident_management.db import pages, queries
from incident_management.domain import rules
from incident_management.metrics import PAGES
from incident_management.usecases import links, paging
from incident_management.usecases.incidents import each_alone
from incident_management.workers.report import CycleReport
from platform_common.clock import Clock
from platform_common.db import Database
from platform_db.models import Incident, Page

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Lookup:
    """A page whose recipient's contact methods (and rules) are looked up as it goes out."""

    step_key: str
    team: str | None
    notice: bool  # told by the first contact method only, never by the rules


@dataclass(frozen=True)
class Expanded:
    """A page the recipient's notification rules turned into steps: the row becomes
    `first` (sent now with `result`, or None: waiting for its delay); `later` join the outbox."""

    first: rules.PlannedPage
    later: list[rules.PlannedPage]
    result: object


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

    async def send_pages(self, report: CycleReport) -> int:
        """Hand every due page to notification-service (or cancel it if no longer wanted),
        then record what came of them in one transaction. Returns how many were claimed."""
        claimed, cancelled = await self._claim()
        if not claimed:
            return cancelled
        # Recipients chosen by hand are looked up side by side (bounded), then the batch's
        # pages go over in one request: one HTTP call per page was most of the CPU a
        # storm of new incidents cost on both sides.
        limit = asyncio.Semaphore(self.settings.incident_worker_concurrency)

        async def prepare(request: PageRequest, lookup: Lookup | None) -> tuple[PageRequest | None, object]:
            async with limit:
                return await self._prepare(request, lookup)

        prepared = await asyncio.gather(*(prepare(request, lookup) for _, request, lookup in claimed))
        sent = iter(await self._notify([request for request, _ in prepared if request is not None]))
        results: list[object] = []
        for request, held in prepared:
            if request is None:
                results.append(held)
            elif isinstance(held, Expanded):
                results.append(replace(held, result=next(sent)))
            else:
                results.append(next(sent))
        await self._finish_pages([page_id for page_id, _, _ in claimed], results, report)
        return len(claimed) + cancelled

    async def _finish_pages(self, page_ids: list[uuid.UUID], results: list[object], report: CycleReport) -> None:
        """Record each page's outcome: one commit for the batch, and a page that cannot be
        recorded is rolled back alone (`each_alone`); its lease runs out and it is sent
        again, which its idempotency key makes harmless."""
        now = self.clock.now()
        async with self.db.sessionmaker() as session, session.begin():
            locked = await pages.lock_pages(session, page_ids=page_ids)

            async def read_again() -> None:
                await pages.lock_pages(session, page_ids=page_ids)

            done = [(page_id, result) for page_id, result in zip(page_ids, results, strict=True) if page_id in locked]
            outcomes = await each_alone(
                session,
                [partial(self._record, session, locked[page_id], result, now=now) for page_id, result in done],
                refusals=Exception,
                before_again=read_again,
            )
        for (page_id, _), outcome in zip(done, outcomes, strict=True):
            if isinstance(outcome, Exception):
                log.error("recording a page failed", extra={"page_id": str(page_id)}, exc_info=outcome)
                report.errors.append(f"page {page_id}: {type(outcome).__name__}")
            elif outcome is not None:
                PAGES.labels(result=outcome).inc()
                if outcome == "sent":
                    report.pages_sent += 1
                elif outcome == "retry":
                    report.pages_retrying += 1

    async def _claim(self) -> tuple[list[tuple[uuid.UUID, PageRequest, Lookup | None]], int]:
        """Claim the due pages and cancel those no longer wanted; for each of the rest, its
        request and, when its recipient's contact methods are still to be looked up, what
        that lookup needs; and how many were cancelled."""
        now = self.clock.now()
        cancelled = 0
        async with self.db.sessionmaker() as session, session.begin():
            claimed = await pages.claim_pages(
                session, now=now, lease_until=now + self._lease, limit=self.settings.incident_worker_batch_size
            )
            # One read for the batch's incidents: a read per page was a statement per incident.
            incidents = await queries.get_incidents(session, incident_ids={page.incident_id for page in claimed})
            requests = []
            for page in claimed:
                incident = incidents.get(page.incident_id)
                if incident is None or not paging.still_wanted(page, incident):
                    paging.cancel(page, now=now)
                    PAGES.labels(result="cancelled").inc()
                    cancelled += 1
                    continue
                # Chosen by hand: the on-call answer did not bring the contact methods.
                lookup = (
                    Lookup(page.step_key, incident.team, rules.is_notice(page.step_key))
                    if page.contact is None
                    else None
                )
                requests.append((page.id, self._request(page, incident), lookup))
        return requests, cancelled

    def _request(self, page: Page, incident: Incident) -> PageRequest:
        return PageRequest(
            idempotency_key=page.idempotency_key,
            event=page.event,
            user_id=page.recipient,
            incident=paging.incident_payload(incident, self.settings.ui_base_url),
            contact=page.contact or {},
            callback_url=self._callback_url(page.incident_id),
            message=page.reason,
        )

    async def _prepare(self, request: PageRequest, lookup: Lookup | None) -> tuple[PageRequest | None, object]:
        """The request to send now (with the contact methods looked up if still to be), and
        what it comes with: None, or `Expanded` when the recipient's rules made steps of it.
        No request: nothing to send now, and the page's outcome (an `Expanded` whose first
        step waits for its delay, or NotificationUnavailable when oncall-service is down)."""
        try:
            if lookup is not None and lookup.notice:
                contact = await self.oncall.contact(request.user_id)
                return replace(request, contact=rules.first_method_only(contact)), None
            if lookup is not None:
                first, *later = await self._plan(request, lookup)
                request = replace(request, contact=first.contact)
                if first.step_key != lookup.step_key:
                    expanded = Expanded(first, later, None)
                    return (request if first.due_at <= self.clock.now() else None), expanded
            return request, None
        except OncallUnavailable as exc:
            return None, NotificationUnavailable(str(exc))

    async def _plan(self, request: PageRequest, lookup: Lookup) -> list[rules.PlannedPage]:
        """The recipient's pages by their notification rules for the incident's urgency,
        through the one expansion on-call pages take (`rules.plan_person`)."""
        contact = await self.oncall.contact(request.user_id)
        steps = await self.oncall.rules(request.user_id)
        now = self.clock.now()
        urgency = "high"
        if steps:  # the service's setting is asked for only when it matters
            service, severity = request.incident["service"], request.incident["severity"]
            high = await self.oncall.high_urgency(service=service, team=lookup.team, at=now)
            urgency = rules.urgency_of(severity, high)
        return rules.plan_person(
            recipient=request.user_id, step_key=lookup.step_key, contact=contact, rules=steps, urgency=urgency, now=now
        )

    async def _notify(self, requests: list[PageRequest]) -> list[object]:
        """notification-service's deliveries of each page, or why it did not take it."""
        if not requests:
            return []
        try:
            return list(await self.notifications.notify_many([replace(r, actions=self._actions(r)) for r in requests]))
        except NotificationUnavailable as exc:
            return [exc for _ in requests]

    async def _record(self, session: AsyncSession, page: Page, result: object, *, now: datetime) -> str | None:
        """Record what came of sending the page; how it went for the metrics (sent,
        retry, failed), or None when its first step waits for its delay."""
        if isinstance(result, Expanded):
            # Later steps are keyed per step: one already queued (a retry) is not queued again.
            names = {page.recipient: page.recipient_name} if page.recipient_name else None
            await pages.enqueue_planned(
                session,
                incident_id=page.incident_id,
                event=page.event,
                planned=result.later,
                now=now,
                reason=page.reason,
                names=names,
            )
            page.contact = result.first.contact
            if result.result is None:  # the first step waits for its delay
                page.due_at = page.next_attempt_at = result.first.due_at
                page.updated_at = now
                return None
            result = result.result
        if isinstance(result, NotificationUnavailable):
            paging.record_unavailable(
                session,
                page=page,
                error=str(result),
                now=now,
                retry_base=self.settings.incident_retry_base_seconds,
                retry_cap=self.settings.incident_retry_max_seconds,
            )
            return "retry"
        if isinstance(result, NotificationRejected):
            paging.record_rejected(session, page=page, error=str(result), now=now)
            return "failed"
        assert isinstance(result, list)
        paging.record_sent(session, page=page, deliveries=result, now=now)
        return "sent"
