"""Prometheus metrics of incidents. Names are part of the platform contract (ARCHITECTURE.md)."""

import logging
from collections.abc import Iterator

from prometheus_client import Counter, Histogram
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from sqlalchemy import Engine, text

from platform_db.enums import IncidentStatus

log = logging.getLogger(__name__)

# SRE-sized: from 30 s to a day, dense where acknowledgement targets usually sit.
SRE_BUCKETS = (30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 14400, 28800, 43200, 86400)
OPEN_STATUSES = tuple(status.value for status in IncidentStatus if status is not IncidentStatus.RESOLVED)

INCIDENTS_CREATED = Counter("incidents_created_total", "Incidents opened", ["severity"])
MTTA = Histogram("incident_mtta_seconds", "Time from opening to the first response", buckets=SRE_BUCKETS)
MTTR = Histogram("incident_mttr_seconds", "Time from opening to resolution", buckets=SRE_BUCKETS)
ESCALATIONS = Counter("escalations_total", "Escalations of unacknowledged incidents to a next level")
PAGES = Counter("incident_pages_total", "Pages handed to notification-service, by result", ["result"])
WORKER_CYCLE = Histogram(
    "incident_worker_cycle_seconds",
    "Duration of one cycle of the assignment/escalation/paging loop",
    buckets=(0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60),
)


class OpenIncidentsCollector(Collector):
    """`incidents_open{status}` counted in the database at scrape time, so every
    replica reports the same truth instead of a per-process tally."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def collect(self) -> Iterator[Metric]:
        """The gauges, read from the database at scrape time."""
        try:
            with self.engine.connect() as connection:
                rows = connection.execute(
                    text("SELECT status, count(*) FROM incidents WHERE status <> 'resolved' GROUP BY status")
                ).all()
        except Exception:  # a scrape must not fail because the database is briefly away
            log.warning("incidents_open: database unavailable at scrape", exc_info=True)
            return
        counts = {status: int(count) for status, count in rows}
        gauge = GaugeMetricFamily("incidents_open", "Unresolved incidents by status", labels=["status"])
        for status in OPEN_STATUSES:
            gauge.add_metric([status], counts.get(status, 0))
        yield gauge


def observe_outcome(*, created_severity: str | None, mtta: float | None, mttr: float | None) -> None:
    """Count a created incident, and record MTTA / MTTR when a change measured them."""
    if created_severity is not None:
        INCIDENTS_CREATED.labels(severity=created_severity).inc()
    if mtta is not None:
        MTTA.observe(mtta)
    if mttr is not None:
        MTTR.observe(mttr)
