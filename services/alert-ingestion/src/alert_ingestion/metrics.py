"""The alert-flow metrics named in the platform contract (bounded labels only)."""

import logging
from collections.abc import Callable, Iterator
from datetime import datetime

from prometheus_client import Counter, Histogram
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from sqlalchemy import Engine, text

log = logging.getLogger(__name__)

ALERTS_RECEIVED = Counter("alerts_received_total", "Alerts accepted, by format and severity", ["source", "severity"])
ALERTS_CORRELATED = Counter(
    "alerts_correlated_total",
    "What became of each alert: created, correlated, deduplicated, suppressed (triggers); acknowledged, resolved,"
    " dropped",
    ["result"],
)
ALERT_PROCESSING = Histogram(
    "alert_processing_seconds",
    "Time to store and correlate one alert, commit included",
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0),
)
# `service` is bounded: only the services an admin put in a maintenance window are ever counted.
ALERTS_SUPPRESSED = Counter(
    "alerts_suppressed_total",
    "Trigger alerts stored without an incident or a page: their service was in maintenance",
    ["service"],
)
INCIDENT_FALLBACKS = Counter(
    "alert_incident_fallbacks_total", "Incidents opened directly in the database because incident-management failed"
)
INCIDENT_ACTIONS = Counter(
    "alert_incident_actions_total", "Acknowledge/resolve calls to incident-management, by result", ["action", "result"]
)
INGEST_BATCH_SIZE = Histogram(
    "alert_ingest_batch_size",
    "Alerts written per group-commit transaction (PostgreSQL)",
    buckets=(1, 2, 4, 8, 16, 32, 64, 128, 256),
)
ALERT_PARTITIONS_DROPPED = Counter(
    "alert_partitions_dropped_total", "Monthly alert partitions dropped after the retention (ALERT_RETENTION_DAYS)"
)


_WINDOWS_SQL = text(
    "WITH active AS (SELECT services FROM maintenance_windows WHERE starts_at <= :now AND ends_at > :now)"
    " SELECT (SELECT count(*) FROM active), (SELECT count(DISTINCT s) FROM active, unnest(active.services) AS s),"
    " (SELECT count(*) FROM heartbeats WHERE due_at <= :now)"
)


class MaintenanceCollector(Collector):
    """Gauges read from the database at scrape time (every replica and worker reports the same
    truth; dashboards take `max`): the maintenance windows active now, the services they silence,
    and the heartbeats late now."""

    def __init__(self, engine: Engine, now: Callable[[], datetime]) -> None:
        self.engine = engine
        self.now = now

    def collect(self) -> Iterator[Metric]:
        """The gauges, read at scrape time."""
        try:
            with self.engine.connect() as connection:
                row = connection.execute(_WINDOWS_SQL, {"now": self.now()}).one()
        except Exception:  # a scrape must not fail because the database is briefly away
            log.warning("maintenance gauges: database unavailable at scrape", exc_info=True)
            return
        yield GaugeMetricFamily("maintenance_windows_active", "Maintenance windows active now", value=row[0])
        yield GaugeMetricFamily("maintenance_services_silenced", "Services in an active window now", value=row[1])
        yield GaugeMetricFamily(
            "heartbeats_late", "Heartbeat monitors not pinged within their interval now", value=row[2]
        )
