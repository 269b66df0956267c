"""Sending what ingestion owes incident-management: new incidents, acknowledges, resolves,
and alerts that joined an incident already acknowledged.

Each owed action is a row written in the transaction that decided it
(ingest_alerts() / close_alerts()). It is claimed with a short lease (so
replicas and the immediate send after commit never send the same row at
once), sent outside any transaction, and then marked done, or retried later
with backoff, or marked failed after too many tries. One incident's actions
go in the order they were owed.

A create that incident-management cannot take (down, slow, refusing) is not
retried later: ingestion opens the incident at once through open_incident(),
incident-management's own function, and incident-management's engine picks it
up for assignment and paging.
"""

import asyncio
import logging
import uuid
from collections.abc import Callable
from datetime import datetime, timedelta

from alert_ingestion import metrics
from alert_ingestion.clients.incidents import IncidentGateway
from alert_ingestion.db import queries
from alert_ingestion.domain.correlation import incident_title
from platform_common.db import Database
from platform_common.retry import retry_at
from platform_common.worker import Worker
from platform_db.models import IncidentAction

log = logging.getLogger(__name__)

LEASE = timedelta(seconds=60)
# Handed-over actions claimed in one transaction at most.
HAND_OVER_BATCH = 100


class IncidentActionSender:
    """Sends the acknowledgements and resolutions owed to incident-management, retrying until they land."""

    def __init__(
        self,
        db: Database,
        incidents: IncidentGateway,
        now: Callable[[], datetime],
        *,
        max_attempts: int,
        retry_base: float,
        retry_cap: float,
        interval: float,
        grace: float,
    ) -> None:
        self.db = db
        self.incidents = incidents
        self.now = now
        self.max_attempts = max_attempts
        self.retry_base = retry_base
        self.retry_cap = retry_cap
        self._handed: list[uuid.UUID] = []
        self._handing = False
        # The retry loop; each cycle sends what is due until nothing is.
        self.worker = Worker("incident-actions", self._cycle, interval=interval, grace=grace)

    def send_soon(self, ids: list[uuid.UUID]) -> None:
        """Send just-committed actions in the background; the sender's 202 does not wait.

        Hand-overs that arrive while one is being claimed join the next claim (as
        alerts join the next group commit): at 50 new incidents a second, one claim
        transaction per batch instead of one per alert. A transaction (and a pooled
        connection) per alert starved the pool the 202 path shares: alerts were
        refused with 503 after 30 s of waiting for a connection."""
        self._handed.extend(ids)
        if not self._handing:
            self._handing = True
            self.worker.spawn(self._hand_over())

    async def _hand_over(self) -> None:
        """Claim the handed-over actions in batches; each incident's then go on by themselves,
        side by side. Actions not claimed here (the database away) are pending rows the loop finds."""
        try:
            while self._handed:
                ids, self._handed = self._handed[:HAND_OVER_BATCH], self._handed[HAND_OVER_BATCH:]
                now = self.now()
                async with self.db.sessionmaker() as session, session.begin():
                    claimed = await queries.claim_actions(
                        session, now=now, lease_until=now + LEASE, limit=len(ids), ids=ids
                    )
                for action in claimed:
                    self.worker.spawn(self._send_in_turn(action))
        finally:
            self._handing = False

    async def _cycle(self) -> bool:
        return await self.send_due() > 0

    async def send_due(self, *, limit: int = 50) -> int:
        """Send what is due; returns how many were tried.

        Different incidents' actions go side by side: a create that waits for
        a slow incident-management (up to its timeout, then the fallback) must
        not hold back the other incidents. One incident's go in the order they
        were owed: claim_actions hands out only its earliest pending action,
        and whoever finishes one sends the next (an acknowledge whose create
        was still being sent when it was owed goes right after it, not at the
        loop's next turn)."""
        now = self.now()
        async with self.db.sessionmaker() as session, session.begin():
            claimed = await queries.claim_actions(session, now=now, lease_until=now + LEASE, limit=limit)
        counts = await asyncio.gather(*(self._send_in_turn(action) for action in claimed))
        return sum(counts)

    async def _send_in_turn(self, action: IncidentAction | None) -> int:
        """Send `action`, then the incident's next ones while they are due; returns how many were tried."""
        sent = 0
        while action is not None:
            incident_id = action.incident_id
            try:
                following = await self._send(action)
                sent += 1
            except Exception:  # a claimed action's lease runs out and the loop retries it; the others go on
                log.exception("sending an owed incident action failed", extra={"incident_id": str(incident_id)})
                return sent
            action = following[0] if following else None
        return sent

    async def _send(self, action: IncidentAction) -> list[IncidentAction]:
        """Send one action and record how it went; in the same transaction, claim the
        incident's next action if one is due (one commit per action, not two)."""
        if action.action == "create":
            result, error = await self._create(action.incident_id)
        elif action.action == "alert_joined" and action.alert_id is not None:
            result, error = await self.incidents.alert_joined(incident_id=action.incident_id, alert_id=action.alert_id)
        elif action.action == "resolve" and await self._superseded(action.incident_id):
            result, error = "done", "superseded: a new alert joined the incident"
        else:
            async with self.db.sessionmaker() as session:
                integration = await queries.acting_integration(session, incident_id=action.incident_id)
            result, error = await self.incidents.set_status(
                incident_id=action.incident_id, action=action.action, integration=integration
            )
        attempts = action.attempts + 1
        now = self.now()
        status = "done" if result == "done" else "failed" if attempts >= self.max_attempts else "pending"
        metrics.INCIDENT_ACTIONS.labels(action.action, status if status != "pending" else "retry").inc()
        if status != "done":
            log.warning(
                "incident %s not sent",
                action.action,
                extra={"incident_id": str(action.incident_id), "error": error, "status": status},
            )
        async with self.db.sessionmaker() as session, session.begin():
            await queries.finish_action(
                session,
                action_id=action.id,
                status=status,
                attempts=attempts,
                next_attempt_at=retry_at(now, attempts, base=self.retry_base, cap=self.retry_cap),
                error=error,
                now=now,
            )
            return await queries.claim_actions(
                session, now=now, lease_until=now + LEASE, limit=1, incident_id=action.incident_id
            )

    async def _create(self, incident_id: uuid.UUID) -> tuple[str, str | None]:
        async with self.db.sessionmaker() as session:
            opener = await queries.opening_alert(session, incident_id=incident_id)
            integration = await queries.acting_integration(session, incident_id=incident_id)
        if opener is None:  # cannot happen while the rule writes both in one transaction
            return "done", "no opening alert"
        title = incident_title(service=opener.service, message=opener.message)
        if await self.incidents.create(
            incident_id=incident_id,
            title=title,
            service=opener.service,
            severity=opener.severity,
            description=opener.message,
            opened_at=opener.received_at,
            integration=integration,
        ):
            return "done", None
        async with self.db.sessionmaker() as session, session.begin():
            opened = await queries.open_incident(
                session,
                incident_id=incident_id,
                title=title,
                description=opener.message,
                service=opener.service,
                severity=opener.severity,
                # Named as incident-management names an integration it acts for (its id is not
                # recorded on this path: open_incident() takes a name only).
                actor=f"integration {integration['name']}" if integration else "alert-ingestion",
                now=opener.received_at,  # MTTA counts from the alert, as through the API
            )
        if not opened:  # incident-management did open it, but its answer was lost or late
            return "done", "already opened: incident-management took it though its answer did not arrive"
        metrics.INCIDENT_FALLBACKS.inc()
        log.warning("incident opened by the database fallback", extra={"incident_id": str(incident_id)})
        return "done", "opened by the fallback: incident-management did not take it"

    async def _superseded(self, incident_id: uuid.UUID) -> bool:
        async with self.db.sessionmaker() as session:
            return await queries.has_open_alerts(session, incident_id=incident_id)
