"""The hot path: store an alert, deduplicate it, correlate it into an incident.

Races are settled in the database so several processes can ingest at once:
on PostgreSQL each trigger takes a transaction-scoped advisory lock on its
fingerprint, and, when it may open an incident, on its (service, severity),
always in that order (so two transactions can never wait on each other). A
lock is held until commit, and the next holder's queries (READ COMMITTED) see
what the previous one committed: one incident, exact counts. On SQLite every
write transaction is already serialized (BEGIN IMMEDIATE); the one gap, the
HTTP call to incident-management that must happen outside the write lock
there, is closed by an in-process lock (SQLite is the single-process local
mode).
"""

import asyncio
import logging
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

import asyncpg
from sqlalchemy.ext.asyncio import AsyncConnection

from alert_ingestion import metrics
from alert_ingestion.db import queries
from alert_ingestion.db.fast_path import FastPath, Row, to_json
from alert_ingestion.domain.alert import IncomingAlert, Outcome
from alert_ingestion.domain.correlation import correlation_cutoff, incident_title
from alert_ingestion.domain.fingerprint import dedup_scope, fingerprint
from alert_ingestion.services.incident_gateway import IncidentGateway
from platform_common.db import Database
from platform_common.errors import DependencyUnavailable

log = logging.getLogger(__name__)

EventResult = Literal["created", "correlated", "deduplicated", "acknowledged", "resolved", "dropped"]


@dataclass(frozen=True)
class Ingested:
    result: EventResult
    fingerprint: str
    alert_id: uuid.UUID | None = None
    incident_id: uuid.UUID | None = None


@dataclass(frozen=True)
class IngestSettings:
    correlation_window_minutes: float
    auto_resolve_incidents: bool


class Ingestor:
    """One per app: shared by every request of the process."""

    def __init__(
        self,
        db: Database,
        incidents: IncidentGateway,
        settings: IngestSettings,
        now: Callable[[], datetime],
        on_actions: Callable[[list[uuid.UUID]], None] = lambda _ids: None,
        fast: FastPath | None = None,
    ) -> None:
        self.db = db
        # PostgreSQL: repeats and correlations in one round trip; new incidents take the path below.
        self.fast = fast
        self.incidents = incidents
        self.settings = settings
        self.now = now
        # Told the ids of acknowledge/resolve calls owed after each commit, to send them at once.
        self.on_actions = on_actions
        self._sqlite_lock = asyncio.Lock()

    async def ingest(self, alert: IncomingAlert, *, integration_id: uuid.UUID | None) -> Ingested:
        """Handle one event of any format; returns once it is committed."""
        started = time.perf_counter()
        scope = dedup_scope(integration_id=str(integration_id) if integration_id else None, service=alert.service)
        fp = fingerprint(
            service=alert.service, severity=alert.severity, message=alert.message, dedup_key=alert.dedup_key
        )
        if alert.action == "trigger":
            outcome = await self._trigger(alert, integration_id=integration_id, scope=scope, fp=fp)
            metrics.ALERTS_RECEIVED.labels(alert.format, alert.severity).inc()
        else:
            outcome = await self._close(alert, scope=scope, fp=fp)
        metrics.ALERTS_CORRELATED.labels(outcome.result).inc()
        metrics.ALERT_PROCESSING.observe(time.perf_counter() - started)
        return outcome

    # --- trigger -------------------------------------------------------------

    async def _trigger(
        self, alert: IncomingAlert, *, integration_id: uuid.UUID | None, scope: str, fp: str
    ) -> Ingested:
        if self.fast is not None:
            now = self.now()
            alert_id = uuid.uuid4()
            row = Row(
                alert_id=alert_id,
                integration_id=integration_id,
                scope=scope,
                format=alert.format,
                source=alert.source,
                service=alert.service,
                severity=alert.severity,
                message=alert.message,
                labels=to_json(alert.labels),
                fingerprint=fp,
                dedup_key=alert.dedup_key,
                event_timestamp=alert.event_timestamp,
                payload=to_json(alert.payload),
            )
            since = correlation_cutoff(now, self.settings.correlation_window_minutes)
            try:
                action, incident_id = await self.fast.ingest(row, now=now, since=since)
            except (asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
                # The sender retries a 503; the alert was not stored (its transaction rolled back).
                log.exception("database error on the ingest path")
                raise DependencyUnavailable("The database could not store the alert; retry") from exc
            if action != "create":
                return Ingested(result=action, fingerprint=fp, alert_id=alert_id, incident_id=incident_id)
        return await self._trigger_locked(alert, integration_id, scope, fp, hold_during_create=True)

    async def _trigger_locked(
        self,
        alert: IncomingAlert,
        integration_id: uuid.UUID | None,
        scope: str,
        fp: str,
        *,
        hold_during_create: bool,
    ) -> Ingested:
        now = self.now()
        new_id = uuid.uuid4()
        async with self.db.engine.begin() as conn:
            action, incident_id = await self._decide(conn, alert, scope=scope, fp=fp, now=now)
            if incident_id is not None or hold_during_create:
                if incident_id is None:
                    incident_id = new_id
                    await self._open_incident(conn, alert, incident_id=incident_id, now=now, via_api=None)
                return await self._record(conn, alert, integration_id, scope, fp, action, incident_id, now)
        # SQLite: incident-management writes the incident itself, which it cannot
        # do while this process holds the database's write lock.
        via_api = await self._create_through_api(alert, new_id)
        async with self.db.engine.begin() as conn:
            await self._open_incident(conn, alert, incident_id=new_id, now=now, via_api=via_api)
            return await self._record(conn, alert, integration_id, scope, fp, "created", new_id, now)

    async def _decide(
        self, conn: AsyncConnection, alert: IncomingAlert, *, scope: str, fp: str, now: datetime
    ) -> tuple[Outcome, uuid.UUID | None]:
        postgres = True
        if postgres:
            await queries.advisory_lock(conn, key=f"fp\x1f{scope}\x1f{fp}")
        incident_id = await queries.open_incident_of_fingerprint(conn, scope=scope, fingerprint=fp)
        if incident_id is not None:
            return "deduplicated", incident_id
        if postgres:
            await queries.advisory_lock(conn, key=f"svc\x1f{alert.service}\x1f{alert.severity}")
        incident_id = await queries.correlation_candidate(
            conn,
            service=alert.service,
            severity=alert.severity,
            since=correlation_cutoff(now, self.settings.correlation_window_minutes),
        )
        if incident_id is not None:
            return "correlated", incident_id
        return "created", None

    async def _create_through_api(self, alert: IncomingAlert, incident_id: uuid.UUID) -> bool:
        return await self.incidents.create(
            incident_id=incident_id,
            title=incident_title(service=alert.service, message=alert.message),
            service=alert.service,
            severity=alert.severity,
            description=alert.message,
        )

    async def _open_incident(
        self,
        conn: AsyncConnection,
        alert: IncomingAlert,
        *,
        incident_id: uuid.UUID,
        now: datetime,
        via_api: bool | None,
    ) -> None:
        """Through incident-management when it answers (still holding the locks on
        PostgreSQL, so no second creator can slip in), else directly, flagged
        `needs_assignment` for incident-management to pick up."""
        if via_api is None:
            via_api = await self._create_through_api(alert, incident_id)
        if via_api:
            return
        metrics.INCIDENT_FALLBACKS.inc()
        inserted = await queries.insert_fallback_incident(
            conn,
            incident_id=incident_id,
            title=incident_title(service=alert.service, message=alert.message),
            description=alert.message,
            service=alert.service,
            severity=alert.severity,
            now=now,
        )
        if inserted:
            log.warning("incident opened by the database fallback", extra={"incident_id": str(incident_id)})
            await queries.append_timeline(
                conn,
                incident_id=incident_id,
                event_type="created",
                message="Opened by alert-ingestion while incident-management was unavailable",
                data={"origin": "ingestion_fallback"},
                now=now,
            )

    async def _record(
        self,
        conn: AsyncConnection,
        alert: IncomingAlert,
        integration_id: uuid.UUID | None,
        scope: str,
        fp: str,
        action: Outcome,
        incident_id: uuid.UUID,
        now: datetime,
    ) -> Ingested:
        alert_id = uuid.uuid4()
        await queries.insert_alert(
            conn,
            values={
                "id": alert_id,
                "incident_id": incident_id,
                "integration_id": integration_id,
                "dedup_scope": scope,
                "format": alert.format,
                "source": alert.source,
                "service": alert.service,
                "severity": alert.severity,
                "message": alert.message,
                "labels": alert.labels,
                "fingerprint": fp,
                "dedup_key": alert.dedup_key,
                "status": "triggered",
                "action": action,
                "event_timestamp": alert.event_timestamp,
                "received_at": now,
                "acknowledged_at": None,
                "resolved_at": None,
                "payload": alert.payload,
            },
        )
        await queries.count_alert(conn, incident_id=incident_id, now=now)
        # Repeats are counted but stay off the timeline, which people read.
        if action != "deduplicated":
            await queries.append_timeline(
                conn,
                incident_id=incident_id,
                event_type="alert_attached",
                message=f"{alert.format} alert: {alert.message[:200]}",
                data={"alert_id": str(alert_id), "action": action, "fingerprint": fp, "source": alert.source},
                now=now,
            )
        return Ingested(result=action, fingerprint=fp, alert_id=alert_id, incident_id=incident_id)

    # --- acknowledge / resolve ----------------------------------------------

    async def _close(self, alert: IncomingAlert, *, scope: str, fp: str) -> Ingested:
        """Acknowledge or resolve the unresolved alerts of a dedup key. Unknown
        or already closed keys are dropped (accepted, nothing changes), as
        PagerDuty does. The incident update is queued in the same transaction
        and sent after commit, so a down incident-management only delays it."""
        now = self.now()
        acknowledging = alert.action == "acknowledge"
        async with self.db.engine.begin() as conn:
            await queries.advisory_lock(conn, key=f"fp\x1f{scope}\x1f{fp}")
            rows = await queries.open_alerts_of_fingerprint(
                conn,
                scope=scope,
                fingerprint=fp,
                statuses=("triggered",) if acknowledging else ("triggered", "acknowledged"),
            )
            if not rows:
                return Ingested(result="dropped", fingerprint=fp)
            new_status = "acknowledged" if acknowledging else "resolved"
            await queries.set_alert_status(
                conn, alert_ids=[alert_id for alert_id, _ in rows], status=new_status, now=now
            )
            owed = []
            for incident_id in sorted({incident for _, incident in rows if incident is not None}):
                action = await self._incident_action(conn, incident_id, acknowledging=acknowledging)
                if action:
                    owed.append(
                        await queries.enqueue_incident_action(conn, incident_id=incident_id, action=action, now=now)
                    )
        if owed:
            self.on_actions(owed)
        incident = rows[0][1]
        return Ingested(result=new_status, fingerprint=fp, alert_id=rows[0][0], incident_id=incident)

    async def _incident_action(
        self, conn: AsyncConnection, incident_id: uuid.UUID, *, acknowledging: bool
    ) -> str | None:
        status = await queries.lock_incident(conn, incident_id=incident_id)
        if acknowledging:
            return "acknowledge" if status == "open" else None
        if status is None or status == "resolved" or not self.settings.auto_resolve_incidents:
            return None
        if await queries.has_open_alerts(conn, incident_id=incident_id):
            return None
        return "resolve"
