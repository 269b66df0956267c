"""The background loops: assign incidents (retrying while oncall-service is down),
run the timers (reopen incidents whose snooze ended, escalate unacknowledged
ones) and send the page outbox. Delivery results are not
read here: notification-service pushes them (`POST /api/v1/incidents/{id}/deliveries`).

Each of the three runs as a Worker of its own, so a stage never waits for
another: pages go out while the next incidents are being assigned (as one loop
running assign -> escalate -> send in turn, a storm of new incidents queued
behind each cycle's page sends, 76 s p50 from alert to assignment at 50 new
incidents a second, bench/alert_to_page.py). Each loop takes a batch, acts on
all of it in one transaction, and goes again at once while batches come full.

Every replica may run them. Work is claimed in the database (`FOR UPDATE SKIP
LOCKED` on PostgreSQL, plus a lease) and released when done, so no lock is held
while another service is being called and a crashed replica's claims expire.
"""

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from functools import partial

from sqlalchemy.ext.asyncio import AsyncSession

from incident_management.clients.notifications import NotificationClient
from incident_management.clients.oncall import OncallClient, OncallUnavailable
from incident_management.config import Settings
from incident_management.db import queries
from incident_management.domain.escalation import OnCall
from incident_management.metrics import ESCALATIONS, INCIDENTS_CREATED, WORKER_CYCLE, cycle_finished
from incident_management.usecases.assignment import apply_escalation, apply_oncall, record_oncall_failure
from incident_management.usecases.incidents import each_alone
from incident_management.usecases.snooze import end_snooze
from incident_management.workers.outbox import PageOutbox
from incident_management.workers.report import CycleReport
from platform_common.clock import Clock
from platform_common.db import Database
from platform_common.worker import Worker
from platform_db.models import Incident

log = logging.getLogger(__name__)


class OncallLookups:
    """One cycle's answers from oncall-service by (service, team): incidents of one
    service share their chain, and after a failure the rest of the batch is not
    tried again (each waits for its own retry time instead)."""

    def __init__(self, client: OncallClient, clock: Clock) -> None:
        self.client = client
        self.clock = clock
        self.answers: dict[tuple[str, str | None], OnCall | None] = {}
        self.outage: str | None = None

    async def get(self, service: str, team: str | None) -> tuple[OnCall | None, str | None]:
        """(answer, None), or (None, why oncall-service could not answer)."""
        if self.outage is not None:
            return None, self.outage
        key = (service, team)
        if key not in self.answers:
            try:
                self.answers[key] = await self.client.current(service=service, team=team, at=self.clock.now())
            except OncallUnavailable as exc:
                self.outage = str(exc)
                return None, self.outage
        return self.answers[key], None

    def known(self, service: str, team: str | None) -> tuple[OnCall | None, str | None] | None:
        """What `get` answered about (service, team), without asking; None if it was not asked."""
        if self.outage is not None:
            return None, self.outage
        key = (service, team)
        return (self.answers[key], None) if key in self.answers else None

    async def prefetch(self, keys: set[tuple[str, str | None]]) -> None:
        """Ask about several services side by side (a batch of 50 services is one
        round trip's wait, not 50); `get` then answers from what came back."""
        await asyncio.gather(*(self.get(service, team) for service, team in keys))


class IncidentEngine:
    """The loops of one replica: assignment, escalation and the page outbox, side by side."""

    def __init__(
        self,
        *,
        db: Database,
        clock: Clock,
        settings: Settings,
        oncall: OncallClient,
        notifications: NotificationClient,
    ) -> None:
        self.db = db
        self.clock = clock
        self.settings = settings
        self.oncall = oncall
        self.outbox = PageOutbox(db=db, clock=clock, settings=settings, notifications=notifications, oncall=oncall)

        def worker(name: str, work: Callable[[CycleReport], Awaitable[int]]) -> Worker:
            async def cycle() -> bool:
                return await self._cycle(work)

            return Worker(
                name,
                cycle,
                interval=settings.incident_worker_interval_seconds,
                grace=settings.graceful_shutdown_seconds,
            )

        self.assigner = worker("incident-assignment", self.assign_due)
        self.escalator = worker("incident-timers", self.run_timers)
        self.sender = worker("page-outbox", self.outbox.send_pages)
        self.workers = (self.assigner, self.escalator, self.sender)

    @property
    def _lease(self) -> timedelta:
        return timedelta(seconds=self.settings.incident_claim_lease_seconds)

    def start(self) -> None:
        """Start the three loops."""
        for worker in self.workers:
            worker.start()

    async def stop(self) -> None:
        """Stop the three loops, each letting its cycle in flight finish (platform_common.worker)."""
        await asyncio.gather(*(worker.stop() for worker in self.workers))

    def wake(self, _payload: str = "") -> None:
        """Run the next cycles now (a page was queued, an incident changed)."""
        for worker in self.workers:
            worker.wake()

    def opened(self, _payload: str = "") -> None:
        """An incident was opened: assign it now. Only the assignment loop: waking
        the escalation loop for each of 50 new incidents a second made it look
        for due timers 50 times a second, for nothing."""
        self.assigner.wake()

    async def _cycle(self, work: Callable[[CycleReport], Awaitable[int]]) -> bool:
        started = time.perf_counter()
        report = CycleReport()
        claimed = await work(report)
        WORKER_CYCLE.observe(time.perf_counter() - started)
        if report.busy:
            log.info("incident loop cycle", extra=vars(report))
        if report.assigned or report.escalated or report.reopened:
            self.sender.wake()  # they queued pages: send them now, not at the next poll
        # A full batch: more may be due, so no pause while there is a backlog.
        return claimed >= self.settings.incident_worker_batch_size

    async def run_once(self) -> CycleReport:
        """One pass over every kind of due work, in turn (tests step the engine with it)."""
        started = time.perf_counter()
        report = CycleReport()
        await self.end_snoozes(report)
        await self.assign_due(report)
        await self.escalate_due(report)
        await self.outbox.send_pages(report)
        WORKER_CYCLE.observe(time.perf_counter() - started)
        return report

    async def run_timers(self, report: CycleReport) -> int:
        """The timer loop's work: snoozes that ended, then escalations due. Returns
        the larger of the two batches (a full one: go again at once)."""
        return max(await self.end_snoozes(report), await self.escalate_due(report))

    async def end_snoozes(self, report: CycleReport) -> int:
        """Reopen acknowledged incidents whose snooze has passed (their pages go out
        from the outbox); returns how many were due."""
        now = self.clock.now()
        limit = self.settings.incident_worker_batch_size
        # The restarted escalation needs each service's chain: asked before the rows are
        # locked (no lock held while oncall-service answers), as assignment does.
        async with self.db.sessionmaker() as session:
            due = await queries.snoozes_ended(session, now=now, limit=limit, lock=False)
        answers = OncallLookups(self.oncall, self.clock)
        await answers.prefetch({(incident.service, incident.team) for incident in due})
        async with self.db.sessionmaker() as session, session.begin():
            ended = await queries.snoozes_ended(session, now=now, limit=limit)
            for incident in ended:
                asked = answers.known(incident.service, incident.team)
                if asked is None:
                    continue  # its snooze ended since the lookup: the next cycle asks about it
                oncall, error = asked
                report.reopened += await end_snooze(
                    session, incident=incident, oncall=oncall, oncall_error=error, now=now
                )
        return len(ended)

    async def assign_due(self, report: CycleReport) -> int:
        """Ask oncall-service for an assignee for incidents that need one; returns how many were claimed."""
        claimed = await self._claim(queries.claim_unassigned)
        for incident in claimed:
            if incident.origin == "ingestion_fallback" and incident.dependency_failures == 0:
                # Created behind this service's back while it was down: count it now.
                INCIDENTS_CREATED.labels(severity=incident.severity).inc()
        await self._answer(claimed, report, escalating=False)
        return len(claimed)

    async def escalate_due(self, report: CycleReport) -> int:
        """Page the next escalation level of incidents whose escalation is due; returns how many were claimed."""
        claimed = await self._claim(queries.claim_due_escalations)
        await self._answer(claimed, report, escalating=True)
        # The "escalation loop stalled" alert watches this loop: its timers are what nobody else runs.
        cycle_finished()
        return len(claimed)

    async def _claim(self, claim: Callable[..., Awaitable[list[Incident]]]) -> list[Incident]:
        now = self.clock.now()
        async with self.db.sessionmaker() as session, session.begin():
            return await claim(
                session, now=now, lease_until=now + self._lease, limit=self.settings.incident_worker_batch_size
            )

    async def _answer(self, claimed: list[Incident], report: CycleReport, *, escalating: bool) -> None:
        """Ask oncall-service about the claimed incidents (once per service and team, side
        by side) and act on its answers, all in one transaction: one commit for the
        batch instead of one per incident. One that fails is rolled back alone and the
        others still commit (`each_alone`)."""
        if not claimed:
            return
        answers = OncallLookups(self.oncall, self.clock)
        await answers.prefetch({(incident.service, incident.team) for incident in claimed})
        what, verb = ("escalation", "escalate") if escalating else ("assignment", "assign")
        now = self.clock.now()
        ids = [incident.id for incident in claimed]
        async with self.db.sessionmaker() as session, session.begin():
            locked = await queries.get_incidents(session, incident_ids=ids, for_update=True)

            async def read_again() -> None:
                await queries.get_incidents(session, incident_ids=ids, for_update=True)

            calls = []
            for incident in claimed:
                oncall, error = await answers.get(incident.service, incident.team)
                calls.append(
                    partial(
                        self._finish,
                        session,
                        locked.get(incident.id),
                        incident,
                        oncall,
                        error,
                        now=now,
                        escalating=escalating,
                    )
                )
            outcomes = await each_alone(session, calls, refusals=Exception, before_again=read_again)
        for incident, done in zip(claimed, outcomes, strict=True):
            if isinstance(done, Exception):
                log.error("%s of an incident failed", what, extra={"incident_id": str(incident.id)}, exc_info=done)
                report.errors.append(f"{verb} {incident.id}: {type(done).__name__}")
            elif escalating and done:
                report.escalated += 1
                ESCALATIONS.inc()
            elif not escalating and done:
                report.assigned += 1
            elif not escalating and done is False:
                report.assignment_failures += 1

    async def _finish(
        self,
        session: AsyncSession,
        incident: Incident | None,
        claimed: Incident,
        oncall: OnCall | None,
        error: str | None,
        *,
        now: datetime,
        escalating: bool,
    ) -> bool | None:
        """Act on oncall-service's answer about an incident claimed earlier, now locked
        again (`incident`, None if it is gone). None when nothing is left to do, False
        when oncall-service could not answer (tried again after a backoff), else
        whether it was assigned or escalated."""
        if incident is None:
            return None
        if not _still_due(incident, claimed.next_escalation_at, escalating=escalating):
            await queries.release(session, incident_id=incident.id)
            return None
        if error is not None:
            record_oncall_failure(
                session,
                incident=incident,
                error=error,
                now=now,
                retry_base=self.settings.incident_retry_base_seconds,
                retry_cap=self.settings.incident_retry_max_seconds,
                escalating=escalating,
            )
            return False
        if escalating:
            return await apply_escalation(session, incident=incident, oncall=oncall, now=now)
        await apply_oncall(session, incident=incident, oncall=oncall, now=now)
        return True


def _still_due(incident: Incident, claimed_due_at: datetime | None, *, escalating: bool) -> bool:
    """Whether the work claimed is still to do: a responder may have assigned the
    incident, or acknowledged or re-timed it, while oncall-service was being asked."""
    if escalating:
        return incident.status in ("open", "acknowledged") and incident.next_escalation_at == claimed_due_at
    return incident.needs_assignment
