"""An index for the notifications' retention (notification-service's
workers/retention.py): the requests older than NOTIFICATION_RETENTION_DAYS are
found by their creation time, oldest first, and deleted in small batches with
their notifications and attempts (ON DELETE CASCADE, migration 0003).

Why batches of rows and not partitions like the timeline and the alerts
(0018_retention, 0019_alert_partitions): a page makes one request, a
notification per channel and an attempt per try, a small fraction of the
alerts and timeline entries an incident makes; and the three tables are tied
by foreign keys that a partitioned parent would have to carry into each month
(a partition key in every primary key they reference). A batch of a thousand
requests deletes in milliseconds and takes row locks only, so delivery never
waits for it.

Revision ID: 0022_notification_retention
Revises: 0021_read_indexes
Create Date: 2026-12-08
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0022_notification_retention"
down_revision: str | None = "0021_read_indexes"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_notification_requests_created_at", "notification_requests", ["created_at"])


def downgrade() -> None:
    op.drop_index("ix_notification_requests_created_at", "notification_requests")
