"""The alert-flow metrics named in the platform contract (bounded labels only)."""

from prometheus_client import Counter, Histogram

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
ALERTS_SUPPRESSED = Counter(
    "alerts_suppressed_total", "Trigger alerts stored without an incident or a page: their service was in maintenance"
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
