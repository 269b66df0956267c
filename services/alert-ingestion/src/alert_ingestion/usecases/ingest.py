"""The hot path: store an alert and let the database's rule deduplicate or
correlate it, or reserve a new incident.

The rule itself is one SQL function, ingest_alerts() (database/sql/0013_grouping/ingest_alerts.sql);
acknowledge/resolve events go through close_alerts() beside it. Neither holds
anything across a call to another service: a new incident, an acknowledge or
a resolve is owed to incident-management in the same transaction and sent
right after commit by IncidentActionSender.
"""

import logging
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

import asyncpg

from alert_ingestion import metrics
from alert_ingestion.db import maintenance
from alert_ingestion.db.alert_writer import AlertWriter, Row, to_json
from alert_ingestion.domain.alert import IncomingAlert
from alert_ingestion.domain.fingerprint import dedup_scope, fingerprint
from alert_ingestion.domain.maintenance import suppressed_reason
from alert_ingestion.usecases.suppression import ActiveWindows
from platform_common.errors import DependencyUnavailable

log = logging.getLogger(__name__)

EventResult = Literal["created", "correlated", "deduplicated", "suppressed", "acknowledged", "resolved", "dropped"]


@dataclass(frozen=True)
class Ingested:
    """What became of an alert, for the response."""

    result: EventResult
    fingerprint: str
    alert_id: uuid.UUID | None = None
    incident_id: uuid.UUID | None = None


@dataclass(frozen=True)
class IngestSettings:
    """The settings ingestion needs from the service's configuration."""

    correlation_window_minutes: float
    auto_resolve_incidents: bool
    maintenance_cache_seconds: float = 1.0


class Ingestor:
    """One per app: shared by every request of the process."""

    def __init__(
        self,
        writer: AlertWriter,
        settings: IngestSettings,
        now: Callable[[], datetime],
        on_actions: Callable[[list[uuid.UUID]], None] = lambda _ids: None,
    ) -> None:
        self.writer = writer
        # The maintenance windows, read at most every `maintenance_cache_seconds` (suppression.py says why).
        self.windows = ActiveWindows(writer.pool, ttl=settings.maintenance_cache_seconds)
        self.settings = settings
        self.now = now
        # Told the ids of the actions owed to incident-management after each commit, to send them at once.
        self.on_actions = on_actions

    async def ingest(self, alert: IncomingAlert, *, integration_id: uuid.UUID | None) -> Ingested:
        """Handle one event of any format; returns once it is committed."""
        started = time.perf_counter()
        scope = dedup_scope(integration_id=str(integration_id) if integration_id else None, service=alert.service)
        fp = fingerprint(
            service=alert.service, severity=alert.severity, message=alert.message, dedup_key=alert.dedup_key
        )
        try:
            if alert.action == "trigger":
                outcome = await self._trigger(alert, integration_id=integration_id, scope=scope, fp=fp)
                metrics.ALERTS_RECEIVED.labels(alert.format, alert.severity).inc()
            else:
                outcome = await self._close(alert, scope=scope, fp=fp)
        except (asyncpg.PostgresError, asyncpg.InterfaceError, OSError) as exc:
            # The sender retries a 503; nothing was stored (the transaction rolled back).
            log.exception("database error on the ingest path")
            raise DependencyUnavailable("The database could not store the alert; retry") from exc
        metrics.ALERTS_CORRELATED.labels(outcome.result).inc()
        metrics.ALERT_PROCESSING.observe(time.perf_counter() - started)
        return outcome

    async def _trigger(
        self, alert: IncomingAlert, *, integration_id: uuid.UUID | None, scope: str, fp: str
    ) -> Ingested:
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
        # Beside the dedup rule, not inside it: a window's alerts never reach ingest_alerts().
        window = await self.windows.silencing(alert.service, now)
        if window is not None:
            reason = suppressed_reason(window, alert.service)
            await maintenance.store_suppressed(self.writer.pool, row=row, now=now, reason=reason)
            metrics.ALERTS_SUPPRESSED.labels(service=alert.service).inc()
            return Ingested(result="suppressed", fingerprint=fp, alert_id=alert_id)
        # The service's own window, when oncall-service has one, is the rule's to read.
        written = await self.writer.write(row, now=now, default_window_minutes=self.settings.correlation_window_minutes)
        if written.owed_id is not None:
            self.on_actions([written.owed_id])
        return Ingested(
            result=written.outcome,  # type: ignore[arg-type]  # the function answers one of the three
            fingerprint=fp,
            alert_id=written.alert_id,
            incident_id=written.incident_id,
        )

    async def _close(self, alert: IncomingAlert, *, scope: str, fp: str) -> Ingested:
        """Acknowledge or resolve the unresolved alerts of a dedup key. Unknown
        or already closed keys are dropped (accepted, nothing changes), as
        PagerDuty does. The incident change is owed in the same transaction and
        sent after commit, so a down incident-management only delays it."""
        acknowledging = alert.action == "acknowledge"
        closed = await self.writer.close_alerts(
            scope=scope,
            fingerprint=fp,
            acknowledge=acknowledging,
            auto_resolve=self.settings.auto_resolve_incidents,
            now=self.now(),
        )
        if not closed.alert_ids:
            return Ingested(result="dropped", fingerprint=fp)
        if closed.owed_ids:
            self.on_actions(closed.owed_ids)
        return Ingested(
            result="acknowledged" if acknowledging else "resolved",
            fingerprint=fp,
            alert_id=closed.alert_ids[0],
            incident_id=closed.incident_ids[0] if closed.incident_ids else None,
        )
