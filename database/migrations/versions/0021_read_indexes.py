"""Indexes for the incident reads at a year of data (issue 28, "Reads at a
year of data": 1,000,000 incidents, bench/incident_list.py).

Why:
- The status summary and the metrics page's daily series aggregate every
  incident of their range (a year's twelfth for the summary's 30 days, a
  quarter for the longest series) on status, severity and MTTA/MTTR.
  `ix_incidents_created_at` now carries those columns (INCLUDE), so both are
  read from the index alone (an index-only scan) instead of fetching each row
  from the table. The percentiles stay exact: they still sort every value of
  the range, only the reading is cheaper. The list, which walks this index
  newest first, keeps using it as before.
- The list filtered by team had no index: its count read the table
  sequentially, and a small team's page would walk every incident newest
  first. `ix_incidents_team_created_at` answers both, as
  `ix_incidents_service_created_at` does for a service.

Creating both on 1,000,000 incidents takes a few seconds, during which
incidents cannot be written (an ordinary CREATE INDEX, in the migration's
transaction).

Revision ID: 0021_read_indexes
Revises: 0020_alert_retention
Create Date: 2026-12-08
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0021_read_indexes"
down_revision: str | None = "0020_alert_retention"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# What the summary and the daily series read besides created_at (incident_management/db/stats.py).
STATS_COLUMNS = ["status", "severity", "mtta_seconds", "mttr_seconds"]


def upgrade() -> None:
    op.drop_index("ix_incidents_created_at", "incidents")
    op.create_index("ix_incidents_created_at", "incidents", ["created_at"], postgresql_include=STATS_COLUMNS)
    op.create_index("ix_incidents_team_created_at", "incidents", ["team", "created_at"])


def downgrade() -> None:
    op.drop_index("ix_incidents_team_created_at", "incidents")
    op.drop_index("ix_incidents_created_at", "incidents")
    op.create_index("ix_incidents_created_at", "incidents", ["created_at"])
