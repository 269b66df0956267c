"""Prometheus metrics of deliveries (names are fixed by ARCHITECTURE.md; labels stay bounded)."""

from prometheus_client import Counter, Histogram

from platform_db.enums import CHANNELS

RESULTS = ("delivered", "retry", "failed", "suppressed")
NOTIFICATIONS_SENT = Counter(
    "notifications_sent_total", "Delivery attempts and their outcome, by channel", ["channel", "result"]
)
DELIVERY_SECONDS = Histogram(
    "notification_delivery_seconds",
    "Time one delivery attempt took, by channel",
    ["channel"],
    buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
)
WORKER_CYCLE_SECONDS = Histogram(
    "notification_worker_cycle_seconds",
    "Time of one delivery worker cycle (claim, send, record)",
    buckets=(0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 15, 60),
)
NOTIFICATION_REQUESTS_DELETED = Counter(
    "notification_requests_deleted_total",
    "Notify requests deleted after the retention, with their notifications and attempts",
)
for _channel in CHANNELS:  # every series exists from the start, so increase() sees the first failure
    for _result in RESULTS:
        NOTIFICATIONS_SENT.labels(_channel, _result)
