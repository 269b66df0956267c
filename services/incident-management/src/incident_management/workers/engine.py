"""The background loop: assigns incidents (retrying while oncall-service is down),
escalates unacknowledged ones and sends the page outbox. Delivery results are not
read here: notification-service pushes them (`POST /api/v1/incidents/{id}/deliveries`).

Every replica may run it. Work is claimed in the database (`FOR UPDATE SKIP
LOCKED` on PostgreSQL, plus a lease) and released when done, so no lock is held
while another service is being called and a crashed replica's claims expire.
"""

import logging
import time
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta

from incident_management.clients.notifications import NotificationClient
from incident_management.clients.oncall import OncallClient, OncallUnavailable
from incident_management.config import Settings
from incident_management.db import queries
from incident_management.domain.escalation import OnCall
from incident_management.metrics import ESCALATIONS, INCIDENTS_CREATED, WORKER_CYCLE, cycle_finished
from incident_management.usecases.assignment import apply_escalation, apply_oncall, record_oncall_failure
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


class IncidentEngine:
    """The loop of one replica: assignment, escalation, then the page outbox."""

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
        self.worker = Worker(
            "incident-loop",
            self._cycle,
            interval=settings.incident_worker_interval_seconds,
            grace=settings.graceful_shutdown_seconds,
        )

    @property
    def _lease(self) -> timedelta:
        return timedelta(seconds=self.settings.incident_claim_lease_seconds)

    def wake(self, _payload: str = "") -> None:
        """Run the next cycle now (an incident was opened, a page was queued)."""
        self.worker.wake()

    async def _cycle(self) -> bool:
        report = await self.run_once()
        if report.busy:
            log.info("incident loop cycle", extra=vars(report))
        return False

    async def run_once(self) -> CycleReport:
        """One pass over every kind of due work."""
        started = time.perf_counter()
        report = CycleReport()
        await self.end_snoozes(report)
        await self.assign_due(report)
        await self.escalate_due(report)
        await self.outbox.send_pages(report)
        WORKER_CYCLE.observe(time.perf_counter() - started)
        cycle_finished()
        return report

    async def end_snoozes(self, report: CycleReport) -> None:
        """Reopen acknowledged incidents whose snooze has passed; their pages go out below in this cycle."""
        now = self.clock.now()
        async with self.db.sessionmaker() as session, session.begin():
            for incident in await queries.snoozes_ended(
                session, now=now, limit=self.settings.incident_worker_batch_size
            ):
                report.reopened += await end_snooze(session, incident=incident, now=now)

    async def assign_due(self, report: CycleReport) -> None:
        """Ask oncall-service for an assignee for incidents that need one."""
        claimed = await self._claim(queries.claim_unassigned)
        for incident in claimed:
            if incident.origin == "ingestion_fallback" and incident.dependency_failures == 0:
                # Created behind this service's back while it was down: count it now.
                INCIDENTS_CREATED.labels(severity=incident.severity).inc()
        await self._answer(claimed, report, escalating=False)

    async def escalate_due(self, report: CycleReport) -> None:
        """Page the next escalation level of incidents whose escalation is due."""
        await self._answer(await self._claim(queries.claim_due_escalations), report, escalating=True)

    async def _claim(self, claim: Callable[..., Awaitable[list[Incident]]]) -> list[Incident]:
        now = self.clock.now()
        async with self.db.sessionmaker() as session, session.begin():
            return await claim(
                session, now=now, lease_until=now + self._lease, limit=self.settings.incident_worker_batch_size
            )

    async def _answer(self, claimed: list[Incident], report: CycleReport, *, escalating: bool) -> None:
        """Ask oncall-service about each claimed incident (once per service and team)
        and act on its answer, each incident in a transaction of its own."""
        answers = OncallLookups(self.oncall, self.clock)
        what, verb = ("escalation", "escalate") if escalating else ("assignment", "assign")
        for incident in claimed:
            oncall, error = await answers.get(incident.service, incident.team)
            try:
                done = await self._finish(incident, oncall, error, escalating=escalating)
            except Exception as exc:
                log.exception("%s of an incident failed", what, extra={"incident_id": str(incident.id)})
                report.errors.append(f"{verb} {incident.id}: {type(exc).__name__}")
                continue
            if escalating and done:
                report.escalated += 1
                ESCALATIONS.inc()
            elif not escalating and done:
                report.assigned += 1
            elif not escalating and done is False:
                report.assignment_failures += 1

    async def _finish(
        self, claimed: Incident, oncall: OnCall | None, error: str | None, *, escalating: bool
    ) -> bool | None:
        """Act on oncall-service's answer about an incident claimed earlier, locked again.
        None when nothing is left to do, False when oncall-service could not answer (tried
        again after a backoff), else whether it was assigned or escalated."""
        now = self.clock.now()
        async with self.db.sessionmaker() as session, session.begin():
            incident = await queries.get_incident(session, incident_id=claimed.id, for_update=True)
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
        return incident.status == "open" and incident.next_escalation_at == claimed_due_at
    return incident.needs_assignment
