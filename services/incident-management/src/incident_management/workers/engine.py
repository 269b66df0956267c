"""The background loop: assigns incidents (retrying while oncall-service is down),
escalates unacknowledged ones and sends the page outbox. Delivery results are not
read here: notification-service pushes them (`POST /api/v1/incidents/{id}/deliveries`).

Every replica may run it. Work is claimed in the database (`FOR UPDATE SKIP
LOCKED` on PostgreSQL, plus a lease) and released when done, so no lock is held
while another service is being called and a crashed replica's claims expire.
"""

import logging
import time
import uuid
from datetime import timedelta

from incident_management.clients.notifications import NotificationClient
from incident_management.clients.oncall import OnCall, OncallClient, OncallUnavailable
from incident_management.config import Settings
from incident_management.db import queries
from incident_management.metrics import ESCALATIONS, INCIDENTS_CREATED, WORKER_CYCLE, cycle_finished
from incident_management.usecases.assignment import apply_oncall, record_oncall_failure
from incident_management.usecases.escalation import apply_escalation
from incident_management.workers.outbox import PageOutbox
from incident_management.workers.report import CycleReport
from platform_common.clock import Clock
from platform_common.db import Database
from platform_common.worker import Worker

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
        self.notifications = notifications
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
        await self.assign_due(report)
        await self.escalate_due(report)
        await self.outbox.send_pages(report)
        WORKER_CYCLE.observe(time.perf_counter() - started)
        cycle_finished()
        return report

    # -- assignment ---------------------------------------------------------

    async def assign_due(
        self, report: CycleReport, *, incident_id: uuid.UUID | None = None, client: OncallClient | None = None
    ) -> None:
        """Ask oncall-service for an assignee for incidents that need one."""
        client = client or self.oncall
        now = self.clock.now()
        async with self.db.sessionmaker() as session, session.begin():
            claimed = await queries.claim_unassigned(
                session,
                now=now,
                lease_until=now + self._lease,
                limit=self.settings.incident_worker_batch_size,
                incident_id=incident_id,
            )
            claimed_ids = [(incident.id, incident.origin, incident.dependency_failures) for incident in claimed]
            severities = {incident.id: incident.severity for incident in claimed}
            lookups = {incident.id: (incident.service, incident.team) for incident in claimed}
        answers = OncallLookups(client, self.clock)
        for claimed_id, origin, failures in claimed_ids:
            if origin == "ingestion_fallback" and failures == 0:
                # Created behind this service's back while it was down: count it now.
                INCIDENTS_CREATED.labels(severity=severities[claimed_id]).inc()
            service, team = lookups[claimed_id]
            oncall, error = await answers.get(service, team)
            try:
                await self._finish_assignment(claimed_id, oncall, error, report)
            except Exception as exc:
                log.exception("assignment of an incident failed", extra={"incident_id": str(claimed_id)})
                report.errors.append(f"assign {claimed_id}: {type(exc).__name__}")

    async def _finish_assignment(
        self, incident_id: uuid.UUID, oncall: OnCall | None, error: str | None, report: CycleReport
    ) -> None:
        now = self.clock.now()
        async with self.db.sessionmaker() as session, session.begin():
            incident = await queries.get_incident(session, incident_id=incident_id, for_update=True)
            if incident is None:
                return
            if not incident.needs_assignment:  # a responder assigned it meanwhile
                await queries.release(session, incident_id=incident_id)
                return
            if error is not None:
                await record_oncall_failure(
                    session,
                    incident=incident,
                    error=error,
                    now=now,
                    retry_base=self.settings.incident_retry_base_seconds,
                    retry_cap=self.settings.incident_retry_max_seconds,
                    escalating=False,
                )
                report.assignment_failures += 1
                return
            await apply_oncall(session, incident=incident, oncall=oncall, now=now)
            report.assigned += 1

    # -- escalation ---------------------------------------------------------

    async def escalate_due(self, report: CycleReport) -> None:
        """Page the next escalation level of incidents whose escalation is due."""
        now = self.clock.now()
        async with self.db.sessionmaker() as session, session.begin():
            claimed = await queries.claim_due_escalations(
                session, now=now, lease_until=now + self._lease, limit=self.settings.incident_worker_batch_size
            )
            work = [(incident.id, incident.service, incident.team, incident.next_escalation_at) for incident in claimed]
        answers = OncallLookups(self.oncall, self.clock)
        for incident_id, service, team, due_at in work:
            oncall, error = await answers.get(service, team)
            try:
                if await self._finish_escalation(incident_id, due_at, oncall, error):
                    report.escalated += 1
                    ESCALATIONS.inc()
            except Exception as exc:
                log.exception("escalation of an incident failed", extra={"incident_id": str(incident_id)})
                report.errors.append(f"escalate {incident_id}: {type(exc).__name__}")

    async def _finish_escalation(
        self, incident_id: uuid.UUID, due_at: object, oncall: OnCall | None, error: str | None
    ) -> bool:
        now = self.clock.now()
        async with self.db.sessionmaker() as session, session.begin():
            incident = await queries.get_incident(session, incident_id=incident_id, for_update=True)
            if incident is None:
                return False
            if incident.status != "open" or incident.next_escalation_at != due_at:
                # Acknowledged (or re-timed) while oncall-service was being asked: nothing to do.
                await queries.release(session, incident_id=incident_id)
                return False
            if error is not None:
                await record_oncall_failure(
                    session,
                    incident=incident,
                    error=error,
                    now=now,
                    retry_base=self.settings.incident_retry_base_seconds,
                    retry_cap=self.settings.incident_retry_max_seconds,
                    escalating=True,
                )
                return False
            return await apply_escalation(session, incident=incident, oncall=oncall, now=now)
