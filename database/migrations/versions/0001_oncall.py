"""On-call: users and their contact methods, teams, the services teams own,
rotation schedules with layers and overrides, escalation policies.

Why: the on-call service answers "who is paged now" from these tables; the
incident service reads escalation policies through that service's API.

Revision ID: 0001_oncall
Revises:
Create Date: 2026-11-23
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from columns import created_updated, id_column, in_check, timestamp

revision: str = "0001_oncall"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

CONTACT_TYPES = ("email", "slack", "webhook", "sms", "phone")


def upgrade() -> None:
    op.create_table(
        "users",
        id_column(),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("email", sa.String(320), nullable=False, unique=True),
        sa.Column("timezone", sa.String(64), nullable=False, server_default="UTC"),
        # A user's own mutes: channels and severities they do not want paged on.
        sa.Column("muted_channels", sa.JSON(), nullable=False, server_default=sa.text("'[]'")),
        sa.Column("muted_severities", sa.JSON(), nullable=False, server_default=sa.text("'[]'")),
        *created_updated(),
    )
    op.create_table(
        "contact_methods",
        id_column(),
        sa.Column("user_id", sa.Uuid(), sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
        sa.Column("type", sa.String(20), nullable=False),
        sa.Column("address", sa.String(2048), nullable=False),
        timestamp("created_at", default_now=True),
        sa.CheckConstraint(in_check("type", CONTACT_TYPES), name="ck_contact_methods_type"),
        sa.UniqueConstraint("user_id", "type", "address", name="uq_contact_methods_user_type_address"),
    )
    op.create_index("ix_contact_methods_user_id", "contact_methods", ["user_id"])

    op.create_table(
        "teams",
        id_column(),
        sa.Column("name", sa.String(200), nullable=False, unique=True),
        sa.Column("description", sa.Text(), nullable=False, server_default=""),
        # The team's default policy, used for `oncall/current?team=` and for the
        # team's services that name none. Its foreign key is added once
        # escalation_policies exists (the two tables reference each other).
        sa.Column("escalation_policy_id", sa.Uuid()),
        *created_updated(),
    )
    op.create_table(
        "team_members",
        sa.Column("team_id", sa.Uuid(), sa.ForeignKey("teams.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("user_id", sa.Uuid(), sa.ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("role", sa.String(20), nullable=False, server_default="member"),
        sa.CheckConstraint(in_check("role", ("member", "manager")), name="ck_team_members_role"),
    )
    op.create_index("ix_team_members_user_id", "team_members", ["user_id"])

    op.create_table(
        "schedules",
        id_column(),
        sa.Column("name", sa.String(200), nullable=False, unique=True),
        sa.Column("description", sa.Text(), nullable=False, server_default=""),
        sa.Column("team_id", sa.Uuid(), sa.ForeignKey("teams.id", ondelete="SET NULL")),
        # IANA name; shifts are computed in local time so handoffs follow DST.
        sa.Column("timezone", sa.String(64), nullable=False),
        *created_updated(),
    )
    op.create_table(
        "schedule_layers",
        id_column(),
        sa.Column("schedule_id", sa.Uuid(), sa.ForeignKey("schedules.id", ondelete="CASCADE"), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        # Higher priority wins where layers overlap.
        sa.Column("priority", sa.Integer(), nullable=False),
        sa.Column("rotation_type", sa.String(10), nullable=False),
        sa.Column("shift_length", sa.Integer(), nullable=False, server_default="1"),
        # The rotation is anchored at local wall time (start_date, handoff_time) in
        # the schedule's timezone, so daily and weekly handoffs stay at that local
        # time across DST changes; the UTC instants are derived, never stored.
        sa.Column("handoff_time", sa.String(5), nullable=False, server_default="09:00"),
        sa.Column("start_date", sa.Date(), nullable=False),
        # Optional instant after which the layer no longer covers anything.
        timestamp("end_at", nullable=True),
        *created_updated(),
        sa.CheckConstraint(in_check("rotation_type", ("hourly", "daily", "weekly")), name="ck_layers_rotation_type"),
        sa.CheckConstraint("shift_length BETWEEN 1 AND 1000", name="ck_layers_shift_length"),
        sa.UniqueConstraint("schedule_id", "priority", name="uq_layers_schedule_priority"),
    )
    op.create_table(
        "layer_members",
        sa.Column("layer_id", sa.Uuid(), sa.ForeignKey("schedule_layers.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("position", sa.Integer(), primary_key=True),
        sa.Column("user_id", sa.Uuid(), sa.ForeignKey("users.id", ondelete="RESTRICT"), nullable=False),
        sa.CheckConstraint("position >= 0", name="ck_layer_members_position"),
    )
    op.create_table(
        "schedule_overrides",
        id_column(),
        sa.Column("schedule_id", sa.Uuid(), sa.ForeignKey("schedules.id", ondelete="CASCADE"), nullable=False),
        sa.Column("user_id", sa.Uuid(), sa.ForeignKey("users.id", ondelete="RESTRICT"), nullable=False),
        timestamp("start_at"),
        timestamp("end_at"),
        timestamp("created_at", default_now=True),
        sa.CheckConstraint("end_at > start_at", name="ck_overrides_range"),
    )
    op.create_index("ix_schedule_overrides_window", "schedule_overrides", ["schedule_id", "start_at", "end_at"])

    op.create_table(
        "escalation_policies",
        id_column(),
        sa.Column("name", sa.String(200), nullable=False, unique=True),
        sa.Column("description", sa.Text(), nullable=False, server_default=""),
        sa.Column("team_id", sa.Uuid(), sa.ForeignKey("teams.id", ondelete="SET NULL")),
        # How many more times the whole chain is walked after the last level.
        sa.Column("repeat_count", sa.Integer(), nullable=False, server_default="0"),
        *created_updated(),
        sa.CheckConstraint("repeat_count BETWEEN 0 AND 9", name="ck_policies_repeat_count"),
    )
    op.create_table(
        "escalation_levels",
        id_column(),
        sa.Column("policy_id", sa.Uuid(), sa.ForeignKey("escalation_policies.id", ondelete="CASCADE"), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("delay_minutes", sa.Integer(), nullable=False),
        sa.CheckConstraint("position >= 0", name="ck_levels_position"),
        sa.CheckConstraint("delay_minutes >= 1", name="ck_levels_delay"),
        sa.UniqueConstraint("policy_id", "position", name="uq_levels_policy_position"),
    )
    op.create_table(
        "escalation_targets",
        id_column(),
        sa.Column("level_id", sa.Uuid(), sa.ForeignKey("escalation_levels.id", ondelete="CASCADE"), nullable=False),
        # Targets of a level are paged in the order the policy lists them.
        sa.Column("position", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("target_type", sa.String(10), nullable=False),
        sa.Column("user_id", sa.Uuid(), sa.ForeignKey("users.id", ondelete="CASCADE")),
        sa.Column("schedule_id", sa.Uuid(), sa.ForeignKey("schedules.id", ondelete="CASCADE")),
        sa.CheckConstraint(
            "(target_type = 'user' AND user_id IS NOT NULL AND schedule_id IS NULL)"
            " OR (target_type = 'schedule' AND schedule_id IS NOT NULL AND user_id IS NULL)",
            name="ck_targets_one_target",
        ),
    )
    op.create_index("ix_escalation_targets_level_id", "escalation_targets", ["level_id"])

    op.create_table(
        "services",
        id_column(),
        sa.Column("name", sa.String(200), nullable=False, unique=True),
        sa.Column("description", sa.Text(), nullable=False, server_default=""),
        sa.Column("team_id", sa.Uuid(), sa.ForeignKey("teams.id", ondelete="SET NULL")),
        sa.Column("escalation_policy_id", sa.Uuid(), sa.ForeignKey("escalation_policies.id", ondelete="SET NULL")),
        *created_updated(),
    )
    op.create_index("ix_services_team_id", "services", ["team_id"])
    # Added once both tables exist: teams and escalation policies refer to each other.
    op.create_foreign_key(
        "fk_teams_escalation_policy_id",
        "teams",
        "escalation_policies",
        ["escalation_policy_id"],
        ["id"],
        ondelete="SET NULL",
    )


def downgrade() -> None:
    op.drop_constraint("fk_teams_escalation_policy_id", "teams", type_="foreignkey")
    for table in (
        "services",
        "escalation_targets",
        "escalation_levels",
        "escalation_policies",
        "schedule_overrides",
        "layer_members",
        "schedule_layers",
        "schedules",
        "team_members",
        "teams",
        "contact_methods",
        "users",
    ):
        op.drop_table(table)
