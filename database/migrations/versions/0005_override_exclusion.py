"""Overrides of one schedule never overlap: an EXCLUDE constraint says so.

Why: two overrides of the same schedule covering the same moment would make
"who is on call" ambiguous. oncall-service checked this itself under a row lock
on the schedule, taken by convention, so any writer that forgot the lock (a
script, a second code path, a hand-written fix in psql) could slip an overlap
in. The constraint makes PostgreSQL refuse it for every writer: same
`schedule_id` (=) and overlapping `[start_at, end_at)` ranges (&&; half-open,
so back-to-back overrides still touch). A plain btree cannot hold `=` next to
`&&` in one GiST index, hence `btree_gist` (shipped with PostgreSQL, trusted
since 13, so the database owner may create it). A violation is SQLSTATE 23P01
(exclusion_violation) naming `ex_overrides_overlap`; oncall-service maps it to
its 409.

Existing overlaps stop the upgrade with the ids of the clashing rows: which of
two overrides should win is a person's call, not a migration's.

Revision ID: 0005_override_exclusion
Revises: 0004_alerts
Create Date: 2026-12-01
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005_override_exclusion"
down_revision: str | None = "0004_alerts"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

CONSTRAINT = "ex_overrides_overlap"


def upgrade() -> None:
    overlapping = sa.text(
        "SELECT a.id, b.id FROM schedule_overrides a JOIN schedule_overrides b"
        " ON a.schedule_id = b.schedule_id AND a.id < b.id"
        " AND a.start_at < b.end_at AND b.start_at < a.end_at LIMIT 20"
    )
    clashes = op.get_bind().execute(overlapping).all()
    if clashes:
        pairs = ", ".join(f"{a} & {b}" for a, b in clashes)
        raise RuntimeError(f"overlapping overrides exist; delete or shorten one of each pair first: {pairs}")
    op.execute("CREATE EXTENSION IF NOT EXISTS btree_gist")
    op.execute(
        f"ALTER TABLE schedule_overrides ADD CONSTRAINT {CONSTRAINT}"
        " EXCLUDE USING gist (schedule_id WITH =, tstzrange(start_at, end_at, '[)') WITH &&)"
    )


def downgrade() -> None:
    # The extension stays: other objects may use it by now, and it costs nothing.
    op.execute(f"ALTER TABLE schedule_overrides DROP CONSTRAINT {CONSTRAINT}")
