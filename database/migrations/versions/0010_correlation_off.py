"""A correlation window of 0 turns correlation off, even within one batch.

Why: ingest_alerts() correlated an alert into an incident opened since
p_since; with a window of 0 the caller passed p_since = now, and every alert
of one group-committed batch is stored at that same now, so distinct alerts
sent at once still joined each other's incidents (23-48 of 1,000 at 50
alerts/s). alert-ingestion now passes NULL for a window of 0, and the rule's
row 2 (correlation) never applies then. Only ingest_alerts() changes;
close_alerts() stays as 0006_one_owner installed it.

Revision ID: 0010_correlation_off
Revises: 0009_service_roles
Create Date: 2026-12-07
"""

from collections.abc import Sequence

from frozen_sql import install

revision: str = "0010_correlation_off"
down_revision: str | None = "0009_service_roles"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SQL_FILES = {
    "0010_correlation_off/ingest_alerts.sql": "d71e5d29efaa767b27a0b6ce0a6f0cf7499da39868712a01a75ada5240e7ddf4",
}
# What the downgrade puts back: the rule as 0006_one_owner froze it (with close_alerts, unchanged).
PREVIOUS = {
    "0006_one_owner/ingest_alerts.sql": "219bf13731cb4a7a8197fe5a4b820e843baf38344a1f697f788e79a2a043bd92",
}


def upgrade() -> None:
    install(SQL_FILES)


def downgrade() -> None:
    install(PREVIOUS)
