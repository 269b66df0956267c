"""Prometheus metrics of incidents. Names are part of the platform contract (ARCHITECTURE.md);
labels stay bounded (status, severity, result: fixed lists)."""

import logging
import time
from collections.abc import Iterator
from datetime import datetime

from prometheus_client import Counter, Gauge, Histogram
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from sqlalchemy import Engine, text

from platform_common.clock import Clock
from platform_db.enums import SEVERITIES, IncidentStatus

log = logging.getLogger(__name__)

# SRE-sized: from 30 s to a day, dense where acknowledgement targets usually sit.
SRE_BUCKETS = (30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 14400, 28800, 43200, 86400)
STATUSES = tuple(status.value for status in IncidentStatus)
OPEN_STATUSES = tuple(status for status in STATUSES if status != IncidentStatus.RESOLVED)

INCIDENTS_CREATED = Counter("incidents_created_total", "Incidents opened", ["severity"])
MTTA = Histogram(
    "incident_mtta_seconds", "Time from opening to the first response, by severity", ["severity"], buckets=SRE_BUCKETS
)
MTTR = Histogram(
    "incident_mttr_seconds", "Time from opening to resolution, by severity", ["severity"], buckets=SRE_BUCKETS
)
ESCALATIONS = Counter("escalations_total", "Escalations of unacknowledged incidents to a next level")
PAGES = Counter("incident_pages_total", "Pages handed to notification-service, by result", ["result"])
WORKER_CYCLE = Histogram(
    "incident_worker_cycle_seconds",
    "Duration of one cycle of the assignment/escalation/paging loop",
    buckets=(0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60),
)
# Per process: the rule "escalation loop stalled" takes the newest over all replicas,
# so a replica with its loop switched off (0 here) does not raise it.
WORKER_LAST_CYCLE = Gauge(
    "incident_worker_last_cycle_timestamp_seconds",
    "Unix time this process's engine last finished a cycle",
    multiprocess_mode="max",
)
# What responders do about noise, in incidents: each snoozed, each merged into another, each new
# one split out, each changed by a bulk request (its refusals are not counted).
RESPONDER_ACTIONS = Counter(
    "incident_responder_actions_total",
    "Incidents snoozed, merged, split out or changed in bulk, by action",
    ["action"],
)
RESPONDER_ACTION_NAMES = ("snoozed", "merged", "split", "bulk_acknowledge", "bulk_resolve", "bulk_reassign")
# Summed over a replica's worker processes: each holds its own streams (GET /api/v1/incidents/changes).
CHANGE_STREAMS = Gauge(
    "incident_change_streams", "Change streams (server-sent events) open in this process", multiprocess_mode="livesum"
)
TIMELINE_PARTITIONS_DROPPED = Counter(
    "incident_timeline_partitions_dropped_total", "Monthly timeline partitions dropped after the retention"
)
TIMELINE_ROWS = Gauge(
    "incident_timeline_rows", "Timeline entries kept, as the planner estimates them", multiprocess_mode="max"
)
for _severity in SEVERITIES:  # every series exists from the start, so rates and quantiles see zeros, not gaps
    INCIDENTS_CREATED.labels(severity=_severity)
    MTTA.labels(severity=_severity)
    MTTR.labels(severity=_severity)
for _action in RESPONDER_ACTION_NAMES:
    RESPONDER_ACTIONS.labels(action=_action)

# One round trip per scrape. Ages are measured against the service's clock (passed
# in, not the database's now()), the clock that wrote next_escalation_at.
_STATE_SQL = text(
    """
    SELECT
      (SELECT coalesce(json_agg(json_build_array(status, severity, n)), '[]')
         FROM (SELECT status, severity, count(*) AS n FROM incidents GROUP BY status, severity) AS counts),
      (SELECT min(next_escalation_at) FROM incidents
         WHERE next_escalation_at IS NOT NULL AND next_escalation_at <= :now AND status = 'open'),
      (SELECT count(*) FROM incident_pages WHERE status = 'pending' AND due_at <= :now),
      (SELECT min(due_at) FROM incident_pages WHERE (status = 'pending' AND due_at <= :now) OR tracking),
      (SELECT min(created_at) FROM incidents WHERE status = 'open' AND assigned_to IS NULL),
      (SELECT coalesce(json_object_agg(severity, oldest), '{}')
         FROM (SELECT severity, min(created_at) AS oldest FROM incidents WHERE status = 'open' GROUP BY severity)
           AS open_by_severity)
    """
)


def _age(now_ts: float, since: datetime | None) -> float:
    return max(0.0, now_ts - since.timestamp()) if since is not None else 0.0


class IncidentStateCollector(Collector):
    """Gauges counted in the database at scrape time, so every replica reports the
    same truth instead of a per-process tally: incidents by status and severity
    (resolved too), and the health of the engine that any replica may run."""

    def __init__(self, engine: Engine, clock: Clock) -> None:
        self.engine = engine
        self.clock = clock

    def collect(self) -> Iterator[Metric]:
        """The gauges, read from the database at scrape time."""
        now = self.clock.now()
        try:
            with self.engine.connect() as connection:
                counts, escalation_due, outbox, oldest_page, oldest_unassigned, oldest_open = connection.execute(
                    _STATE_SQL, {"now": now}
                ).one()
        except Exception:  # a scrape must not fail because the database is briefly away
            log.warning("incident gauges: database unavailable at scrape", exc_info=True)
            return
        by_key = {(status, severity): int(n) for status, severity, n in counts}
        incidents = GaugeMetricFamily(
            "incidents", "Incidents by status and severity, resolved included", labels=["status", "severity"]
        )
        for status in STATUSES:
            for severity in SEVERITIES:
                incidents.add_metric([status, severity], by_key.get((status, severity), 0))
        yield incidents
        open_gauge = GaugeMetricFamily("incidents_open", "Unresolved incidents by status", labels=["status"])
        for status in OPEN_STATUSES:
            open_gauge.add_metric([status], sum(by_key.get((status, s), 0) for s in SEVERITIES))
        yield open_gauge
        now_ts = now.timestamp()
        yield GaugeMetricFamily(
            "incident_escalation_lag_seconds",
            "How late the most overdue escalation is (0: none overdue); grows while the escalation loop stalls",
            value=_age(now_ts, escalation_due),
        )
        yield GaugeMetricFamily(
            "incident_outbox_depth", "Pages waiting in the outbox for notification-service to accept them", value=outbox
        )
        yield GaugeMetricFamily(
            "incident_oldest_undelivered_page_age_seconds",
            "Age of the oldest page not yet accepted, or accepted with a delivery not final yet (0: none)",
            value=_age(now_ts, oldest_page),
        )
        yield GaugeMetricFamily(
            "incident_oldest_unassigned_open_age_seconds",
            "Age of the oldest open incident nobody is assigned to (0: none)",
            value=_age(now_ts, oldest_unassigned),
        )
        unanswered = GaugeMetricFamily(
            "incident_oldest_open_age_seconds",
            "Age of the oldest incident nobody has acknowledged yet, by severity (0: none)",
            labels=["severity"],
        )
        for severity in SEVERITIES:
            oldest = oldest_open.get(severity)
            unanswered.add_metric([severity], _age(now_ts, datetime.fromisoformat(oldest) if oldest else None))
        yield unanswered


def observe_outcome(*, severity: str, created: bool, mtta: float | None, mttr: float | None) -> None:
    """Count a created incident, and record MTTA / MTTR when a change measured them."""
    if created:
        INCIDENTS_CREATED.labels(severity=severity).inc()
    if mtta is not None:
        MTTA.labels(severity=severity).observe(mtta)
    if mttr is not None:
        MTTR.labels(severity=severity).observe(mttr)


def responder_action(action: str, incidents: int = 1) -> None:
    """Count a committed snooze, merge, split or bulk change (RESPONDER_ACTION_NAMES)."""
    if incidents:
        RESPONDER_ACTIONS.labels(action=action).inc(incidents)


def cycle_finished() -> None:
    """Mark the end of an engine cycle (read by the "escalation loop stalled" rule)."""
    WORKER_LAST_CYCLE.set(time.time())
