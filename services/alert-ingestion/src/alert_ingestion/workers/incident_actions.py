"""Sending what ingestion owes incident-management: new incidents, acknowledges, resolves,
and alerts that joined an incident already acknowledged.

Each owed action is a row written in the transaction that decided it
(ingest_alerts() / close_alerts()). It is claimed with a short lease (so
replicas and the immediate send after commit never send the same row at
once), sent outside any transaction, and then marked done, or retried later
with backoff, or marked failed after too many tries. One incident's actions
go in the order they were owed.

The creates claimed together go to incident-management together, in one
request. A create that incident-management cannot take (down, slow, refusing
the request or that incident) is not retried later: ingestion opens the
incident at once through open_incident(),
incident-management's own function, and incident-management's engine picks it
up for assignment and paging.
"""

import logging
import uuid
from collections.abc import Callable
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from alert_ingestion import metrics
from alert_ingestion.clients.incidents import IncidentGateway, NewIncident
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
ALREADY_OPENED = "already opened: incident-management took it though its answer did not arrive"


class IncidentActionSender:
    """Sends the creates, acknowledgements and resolutions owed to incident-management, retrying until they land."""

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

        Hand-overs that arrive while one is being claimed, or its creates sent, join
        the next claim (as alerts join the next group commit): at 50 new incidents a
        second, one claim transaction and one create request per batch instead of one
        per alert. A transaction (and a pooled
        connection) per alert starved the pool the 202 path shares: alerts were
        refused with 503 after 30 s of waiting for a connection."""
        self._handed.extend(ids)
        if not self._handing:
            self._handing = True
            self.worker.spawn(self._hand_over())

    async def _hand_over(self) -> None:
        """Claim the handed-over actions in batches and send each batch. Actions not
        claimed here (the database away) are pending rows the loop finds.

        The next claim waits until this batch's creates are answered: the hand-overs that
        arrive meanwhile join it, so the busier incident-management is, the more creates go
        in one request (as alerts join the next group commit). A new incident waits at most
        for the batch ahead of it; the retry loop, beside, takes what is due and unclaimed."""
        try:
            while self._handed:
                ids, self._handed = self._handed[:HAND_OVER_BATCH], self._handed[HAND_OVER_BATCH:]
                now = self.now()
                async with self.db.sessionmaker() as session, session.begin():
                    claimed = await queries.claim_actions(
                        session, now=now, lease_until=now + LEASE, limit=len(ids), ids=ids
                    )
                await self._send_claimed(claimed)
        finally:
            self._handing = False

    async def _cycle(self) -> bool:
        return await self.send_due() > 0

    async def send_due(self, *, limit: int = 50) -> int:
        """Send what is due; returns how many were claimed."""
        now = self.now()
        async with self.db.sessionmaker() as session, session.begin():
            claimed = await queries.claim_actions(session, now=now, lease_until=now + LEASE, limit=limit)
        return await self._send_claimed(claimed)

    async def _send_claimed(self, claimed: list[IncidentAction]) -> int:
        """Send claimed actions (at most one per incident); returns once the creates among
        them are answered and recorded, the rest going on in tasks of their own.

        The creates go together, in one request to incident-management's batch route: one
        request and one transaction per batch rather than per incident (at 50 new incidents
        a second they were most of this process's CPU). The other actions, and the
        incidents' later ones, go side by side: one slow call must not hold back the other
        incidents. One incident's go in the order they were owed: claim_actions hands out
        only its earliest pending action, and whoever finishes one sends the next (an
        acknowledge whose create was still being sent when it was owed goes right after it,
        not at the loop's next turn)."""
        creates = [action for action in claimed if action.action == "create"]
        for action in claimed:
            if action.action != "create":
                self.worker.spawn(self._send_in_turn(action))
        if creates:
            for action in await self._send_safely(creates):
                self.worker.spawn(self._send_in_turn(action))
        return len(claimed)

    async def _send_in_turn(self, action: IncidentAction | None) -> None:
        """Send `action`, then the incident's next ones while they are due."""
        while action is not None:
            following = await self._send_safely([action])
            action = following[0] if following else None

    async def _send_safely(self, actions: list[IncidentAction]) -> list[IncidentAction]:
        """_send(), logging what went wrong: the actions' leases run out and the loop retries them."""
        try:
            return await self._send(actions)
        except Exception:
            log.exception(
                "sending owed incident actions failed",
                extra={"incident_ids": [str(action.incident_id) for action in actions]},
            )
            return []

    async def _send(self, actions: list[IncidentAction]) -> list[IncidentAction]:
        """Send the actions and record how each went; in the same transaction, claim their
        incidents' next actions that are due (one commit for them all, not two each)."""
        if actions[0].action == "create":
            outcomes = await self._create(actions)
        else:
            outcomes = [await self._change(actions[0])]
        now = self.now()
        async with self.db.sessionmaker() as session, session.begin():
            for action, (result, error) in zip(actions, outcomes, strict=True):
                await self._record(session, action, result, error, now)
            return await queries.claim_actions(
                session,
                now=now,
                lease_until=now + LEASE,
                limit=len(actions),
                incident_ids=[action.incident_id for action in actions],
            )

    async def _record(
        self, session: AsyncSession, action: IncidentAction, result: str, error: str | None, now: datetime
    ) -> None:
        """Write one attempt's outcome: done, or pending again with backoff, or failed after too many tries."""
        attempts = action.attempts + 1
        status = "done" if result == "done" else "failed" if attempts >= self.max_attempts else "pending"
        metrics.INCIDENT_ACTIONS.labels(action.action, status if status != "pending" else "retry").inc()
        if status != "done":
            log.warning(
                "incident %s not sent",
                action.action,
                extra={"incident_id": str(action.incident_id), "error": error, "status": status},
            )
        await queries.finish_action(
            session,
            action_id=action.id,
            status=status,
            attempts=attempts,
            next_attempt_at=retry_at(now, attempts, base=self.retry_base, cap=self.retry_cap),
            error=error,
            now=now,
        )

    async def _change(self, action: IncidentAction) -> tuple[str, str | None]:
        """Send an acknowledge, a resolve or an alert that joined."""
        if action.action == "alert_joined" and action.alert_id is not None:
            return await self.incidents.alert_joined(incident_id=action.incident_id, alert_id=action.alert_id)
        if action.action == "resolve" and await self._superseded(action.incident_id):
            return "done", "superseded: a new alert joined the incident"
        async with self.db.sessionmaker() as session:
            integrations = await queries.acting_integrations(session, incident_ids=[action.incident_id])
        return await self.incidents.set_status(
            incident_id=action.incident_id, action=action.action, integration=integrations.get(action.incident_id)
        )

    async def _create(self, actions: list[IncidentAction]) -> list[tuple[str, str | None]]:
        """Open the incidents through incident-management (one request for them all); the
        ones it did not take, at once through open_incident(). Each create is then done."""
        incident_ids = [action.incident_id for action in actions]
        async with self.db.sessionmaker() as session:
            openers = await queries.opening_alerts(session, incident_ids=incident_ids)
            integrations = await queries.acting_integrations(session, incident_ids=incident_ids)
        new = [
            NewIncident(
                incident_id=incident_id,
                title=incident_title(service=opener.service, message=opener.message),
                service=opener.service,
                severity=opener.severity,
                description=opener.message,
                opened_at=opener.received_at,  # MTTA counts from the alert
                integration=integrations.get(incident_id),
            )
            for incident_id in incident_ids
            if (opener := openers.get(incident_id)) is not None
        ]
        refusals = dict(zip((n.incident_id for n in new), await self.incidents.create_many(new), strict=True))
        fallen_back = [n for n in new if refusals[n.incident_id] is not None]
        opened = await self._open_by_fallback(fallen_back) if fallen_back else set()
        outcomes: list[tuple[str, str | None]] = []
        for incident_id in incident_ids:
            if incident_id not in refusals:  # cannot happen while the rule writes both in one transaction
                outcomes.append(("done", "no opening alert"))
            elif refusals[incident_id] is None:
                outcomes.append(("done", None))
            elif incident_id in opened:
                outcomes.append(("done", f"opened by the fallback: {refusals[incident_id]}"[:500]))
            else:  # incident-management did open it, but its answer was lost or late
                outcomes.append(("done", ALREADY_OPENED))
        return outcomes

    async def _open_by_fallback(self, incidents: list[NewIncident]) -> set[uuid.UUID]:
        """Open the incidents incident-management did not take through its own function, in
        one transaction; the ids of those opened here (the others it had opened after all)."""
        opened = set()
        async with self.db.sessionmaker() as session, session.begin():
            for incident in incidents:
                if await queries.open_incident(
                    session,
                    incident_id=incident.incident_id,
                    title=incident.title,
                    description=incident.description,
                    service=incident.service,
                    severity=incident.severity,
                    # Named as incident-management names an integration it acts for (its id is not
                    # recorded on this path: open_incident() takes a name only).
                    actor=f"integration {incident.integration['name']}" if incident.integration else "alert-ingestion",
                    now=incident.opened_at,  # MTTA counts from the alert, as through the API
                ):
                    opened.add(incident.incident_id)
        for incident_id in opened:
            metrics.INCIDENT_FALLBACKS.inc()
            log.warning("incident opened by the database fallback", extra={"incident_id": str(incident_id)})
        return opened

    async def _superseded(self, incident_id: uuid.UUID) -> bool:
        async with self.db.sessionmaker() as session:
            return await queries.has_open_alerts(session, incident_id=incident_id)
