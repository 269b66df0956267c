"""On-call tables, owned by oncall-service (schema history: migrations/versions/0001_oncall.py,
0005_override_exclusion.py, 0008_auth.py, 0012_profile.py)."""

import uuid
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import (
    ARRAY,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    String,
    Text,
    UniqueConstraint,
    column,
    false,
    func,
    text,
    true,
)
from sqlalchemy.dialects.postgresql import ExcludeConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from platform_db.enums import (
    CONTACT_TYPES,
    CREDENTIAL_KINDS,
    ROLES,
    ROTATION_TYPES,
    SHIFT_NOTICE_KINDS,
    SHIFT_NOTICE_STATUSES,
    TEAM_ROLES,
    URGENCIES,
    in_check,
)
from platform_db.models.base import Base, json_default


def _utcnow() -> datetime:
    return datetime.now(UTC)


class Timestamps:
    # Also set in Python, not only by the server, so the values are known right
    # after a flush without another round trip (async sessions cannot lazy-load them).
    created_at: Mapped[datetime] = mapped_column(default=_utcnow, server_default=func.current_timestamp())
    updated_at: Mapped[datetime] = mapped_column(
        default=_utcnow, onupdate=_utcnow, server_default=func.current_timestamp()
    )


class User(Timestamps, Base):
    __tablename__ = "users"
    __table_args__ = (CheckConstraint(in_check("role", ROLES), name="ck_users_role"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str] = mapped_column(String(320), unique=True)
    timezone: Mapped[str] = mapped_column(String(64), default="UTC", server_default="UTC")
    # A user's own mutes: channels and severities they do not want paged on.
    muted_channels: Mapped[list[Any]] = mapped_column(default=list, server_default=json_default("[]"))
    muted_severities: Mapped[list[Any]] = mapped_column(default=list, server_default=json_default("[]"))
    role: Mapped[str] = mapped_column(String(20), default="responder", server_default="responder")
    # A disabled user cannot log in, and every credential of theirs stops working.
    disabled: Mapped[bool] = mapped_column(default=False, server_default=false())
    # Argon2 (argon2-cffi's encoded form); NULL: no password set, so no login.
    password_hash: Mapped[str | None] = mapped_column(Text)
    # Failed logins in a row, and the lock they earned: on the row, so it holds on every replica.
    failed_logins: Mapped[int] = mapped_column(default=0, server_default="0")
    locked_until: Mapped[datetime | None]

    contact_methods: Mapped[list["ContactMethod"]] = relationship(
        back_populates="user", cascade="all, delete-orphan", order_by="ContactMethod.created_at", lazy="selectin"
    )
    notification_rules: Mapped[list["NotificationRule"]] = relationship(
        cascade="all, delete-orphan",
        order_by="(NotificationRule.urgency, NotificationRule.position)",
        lazy="selectin",
    )


class ContactMethod(Base):
    __tablename__ = "contact_methods"
    __table_args__ = (
        CheckConstraint(in_check("type", CONTACT_TYPES), name="ck_contact_methods_type"),
        UniqueConstraint("user_id", "type", "address", name="uq_contact_methods_user_type_address"),
        Index("ix_contact_methods_user_id", "user_id"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    type: Mapped[str] = mapped_column(String(20))
    address: Mapped[str] = mapped_column(String(2048))
    created_at: Mapped[datetime] = mapped_column(default=_utcnow, server_default=func.current_timestamp())

    user: Mapped[User] = relationship(back_populates="contact_methods")


class NotificationRule(Base):
    """One step of how a user is paged for one urgency: after `delay_minutes`, by
    one of their contact methods (removed with it)."""

    __tablename__ = "notification_rules"
    __table_args__ = (
        CheckConstraint(in_check("urgency", URGENCIES), name="ck_notification_rules_urgency"),
        CheckConstraint("position >= 0", name="ck_notification_rules_position"),
        CheckConstraint("delay_minutes BETWEEN 0 AND 1440", name="ck_notification_rules_delay"),
        UniqueConstraint("user_id", "urgency", "position", name="uq_notification_rules_step"),
        Index("ix_notification_rules_contact_method_id", "contact_method_id"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    urgency: Mapped[str] = mapped_column(String(4))
    position: Mapped[int]
    delay_minutes: Mapped[int]
    contact_method_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("contact_methods.id", ondelete="CASCADE"))

    contact_method: Mapped[ContactMethod] = relationship(lazy="selectin")


class ShiftNotice(Base):
    """A "you are on call" notice owed or sent, once per `notice_key` (so never twice,
    restarts included); the row is the queue oncall-service's notice worker claims."""

    __tablename__ = "shift_notices"
    __table_args__ = (
        CheckConstraint(in_check("kind", SHIFT_NOTICE_KINDS), name="ck_shift_notices_kind"),
        CheckConstraint(in_check("status", SHIFT_NOTICE_STATUSES), name="ck_shift_notices_status"),
        Index("ix_shift_notices_pending", "next_attempt_at", postgresql_where=text("status = 'pending'")),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    notice_key: Mapped[str] = mapped_column(String(255), unique=True)
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(20))
    message: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(10), default="pending", server_default="pending")
    attempts: Mapped[int] = mapped_column(default=0, server_default="0")
    # When pending: the earliest next try, or the lease of the worker sending it.
    next_attempt_at: Mapped[datetime] = mapped_column(server_default=func.current_timestamp())
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(server_default=func.current_timestamp())
    sent_at: Mapped[datetime | None]


class Team(Timestamps, Base):
    __tablename__ = "teams"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    description: Mapped[str] = mapped_column(Text, default="", server_default="")
    # The team's default policy, for `oncall/current?team=` and for the team's
    # services that name none. The two tables reference each other, so this
    # key is added after both exist (use_alter), under the name 0001 gave it.
    escalation_policy_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("escalation_policies.id", ondelete="SET NULL", use_alter=True, name="fk_teams_escalation_policy_id")
    )

    members: Mapped[list["TeamMember"]] = relationship(
        back_populates="team", cascade="all, delete-orphan", lazy="selectin"
    )


class TeamMember(Base):
    __tablename__ = "team_members"
    __table_args__ = (
        CheckConstraint(in_check("role", TEAM_ROLES), name="ck_team_members_role"),
        Index("ix_team_members_user_id", "user_id"),
    )

    team_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("teams.id", ondelete="CASCADE"), primary_key=True)
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    role: Mapped[str] = mapped_column(String(20), default="member", server_default="member")

    team: Mapped[Team] = relationship(back_populates="members")
    user: Mapped[User] = relationship(lazy="selectin")


class Schedule(Timestamps, Base):
    __tablename__ = "schedules"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    description: Mapped[str] = mapped_column(Text, default="", server_default="")
    team_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("teams.id", ondelete="SET NULL"))
    # IANA name; shifts are computed in local time so handoffs follow DST.
    timezone: Mapped[str] = mapped_column(String(64))

    layers: Mapped[list["ScheduleLayer"]] = relationship(
        back_populates="schedule",
        cascade="all, delete-orphan",
        order_by="ScheduleLayer.priority.desc()",
        lazy="selectin",
    )


class ScheduleLayer(Timestamps, Base):
    __tablename__ = "schedule_layers"
    __table_args__ = (
        CheckConstraint(in_check("rotation_type", ROTATION_TYPES), name="ck_layers_rotation_type"),
        CheckConstraint("shift_length BETWEEN 1 AND 1000", name="ck_layers_shift_length"),
        UniqueConstraint("schedule_id", "priority", name="uq_layers_schedule_priority"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    schedule_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("schedules.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(200))
    # Higher priority wins where layers overlap.
    priority: Mapped[int]
    rotation_type: Mapped[str] = mapped_column(String(10))
    shift_length: Mapped[int] = mapped_column(default=1, server_default="1")
    # The rotation is anchored at local wall time (start_date, handoff_time) in
    # the schedule's timezone, so handoffs stay at that local time across DST
    # changes; the UTC instants are derived, never stored.
    handoff_time: Mapped[str] = mapped_column(String(5), default="09:00", server_default="09:00")
    start_date: Mapped[date] = mapped_column(Date)
    # Optional instant after which the layer no longer covers anything.
    end_at: Mapped[datetime | None]

    schedule: Mapped[Schedule] = relationship(back_populates="layers")
    members: Mapped[list["LayerMember"]] = relationship(
        cascade="all, delete-orphan", order_by="LayerMember.position", lazy="selectin"
    )


class LayerMember(Base):
    __tablename__ = "layer_members"
    __table_args__ = (CheckConstraint("position >= 0", name="ck_layer_members_position"),)

    layer_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("schedule_layers.id", ondelete="CASCADE"), primary_key=True)
    position: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"))

    user: Mapped[User] = relationship(lazy="selectin")


class ScheduleOverride(Base):
    __tablename__ = "schedule_overrides"
    __table_args__ = (
        CheckConstraint("end_at > start_at", name="ck_overrides_range"),
        Index("ix_schedule_overrides_window", "schedule_id", "start_at", "end_at"),
        # Overrides of one schedule never overlap, whoever writes them; half-open
        # ranges, so back-to-back overrides may touch (btree_gist, installed by 0005).
        ExcludeConstraint(
            ("schedule_id", "="),
            (func.tstzrange(column("start_at"), column("end_at"), "[)"), "&&"),
            using="gist",
            name="ex_overrides_overlap",
        ),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    schedule_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("schedules.id", ondelete="CASCADE"))
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"))
    start_at: Mapped[datetime]
    end_at: Mapped[datetime]
    created_at: Mapped[datetime] = mapped_column(default=_utcnow, server_default=func.current_timestamp())
    # Who made it (None: made before 0011_oncall_now, or by a user since deleted).
    created_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    user: Mapped[User] = relationship(lazy="selectin", foreign_keys=[user_id])
    creator: Mapped[User | None] = relationship(lazy="selectin", foreign_keys=[created_by])


class EscalationPolicy(Timestamps, Base):
    __tablename__ = "escalation_policies"
    __table_args__ = (CheckConstraint("repeat_count BETWEEN 0 AND 9", name="ck_policies_repeat_count"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    description: Mapped[str] = mapped_column(Text, default="", server_default="")
    team_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("teams.id", ondelete="SET NULL"))
    # How many more times the whole chain is walked after the last level.
    repeat_count: Mapped[int] = mapped_column(default=0, server_default="0")

    levels: Mapped[list["EscalationLevel"]] = relationship(
        cascade="all, delete-orphan", order_by="EscalationLevel.position", lazy="selectin"
    )


class EscalationLevel(Base):
    __tablename__ = "escalation_levels"
    __table_args__ = (
        CheckConstraint("position >= 0", name="ck_levels_position"),
        CheckConstraint("delay_minutes >= 1", name="ck_levels_delay"),
        UniqueConstraint("policy_id", "position", name="uq_levels_policy_position"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    policy_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("escalation_policies.id", ondelete="CASCADE"))
    position: Mapped[int]
    delay_minutes: Mapped[int]

    targets: Mapped[list["EscalationTarget"]] = relationship(
        cascade="all, delete-orphan", order_by="EscalationTarget.position", lazy="selectin"
    )


class EscalationTarget(Base):
    __tablename__ = "escalation_targets"
    __table_args__ = (
        CheckConstraint(
            "(target_type = 'user' AND user_id IS NOT NULL AND schedule_id IS NULL)"
            " OR (target_type = 'schedule' AND schedule_id IS NOT NULL AND user_id IS NULL)",
            name="ck_targets_one_target",
        ),
        Index("ix_escalation_targets_level_id", "level_id"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    level_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("escalation_levels.id", ondelete="CASCADE"))
    # Targets of a level are paged in the order the policy lists them.
    position: Mapped[int] = mapped_column(server_default="0")
    target_type: Mapped[str] = mapped_column(String(10))
    user_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    schedule_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("schedules.id", ondelete="CASCADE"))


ACK_TIMEOUT_CHECK = "acknowledgement_timeout_minutes IS NULL OR acknowledgement_timeout_minutes BETWEEN 1 AND 10080"


class Service(Timestamps, Base):
    __tablename__ = "services"
    __table_args__ = (
        Index("ix_services_team_id", "team_id"),
        CheckConstraint(ACK_TIMEOUT_CHECK, name="ck_services_ack_timeout"),
        CheckConstraint(
            "correlation_window_minutes IS NULL OR correlation_window_minutes BETWEEN 0 AND 10080",
            name="ck_services_correlation_window",
        ),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    description: Mapped[str] = mapped_column(Text, default="", server_default="")
    team_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("teams.id", ondelete="SET NULL"))
    escalation_policy_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("escalation_policies.id", ondelete="SET NULL")
    )
    # Incidents of these severities page with their people's high-urgency rules, the rest with the low ones.
    high_urgency_severities: Mapped[list[Any]] = mapped_column(
        default=lambda: ["critical", "high"], server_default=json_default('["critical", "high"]')
    )
    # An acknowledged incident untouched this long pages again (None: never).
    acknowledgement_timeout_minutes: Mapped[int | None]
    # How alert-ingestion's rule groups this service's alerts (migration 0013; read through the view
    # service_grouping): the correlation window (None: the ingestion default; 0: never by window),
    # the fields that must be equal for alerts to group, and whether an alert may join an incident
    # already acknowledged.
    correlation_window_minutes: Mapped[int | None]
    grouping_fields: Mapped[list[str]] = mapped_column(ARRAY(String(200)), default=list, server_default=text("'{}'"))
    join_acknowledged: Mapped[bool] = mapped_column(default=True, server_default=true())


class Credential(Base):
    """A session (the UI's cookie) or an API token (a script's Bearer), stored as
    the SHA-256 of its secret. Every service checks one through
    authenticate_credential() (database/sql/0008_auth/authenticate_credential.sql)."""

    __tablename__ = "auth_credentials"
    __table_args__ = (
        CheckConstraint(in_check("kind", CREDENTIAL_KINDS), name="ck_auth_credentials_kind"),
        Index("ix_auth_credentials_user", "user_id", "kind"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(10))
    name: Mapped[str] = mapped_column(String(200), default="", server_default="")
    secret_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=_utcnow, server_default=func.current_timestamp())
    expires_at: Mapped[datetime | None]
    last_used_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]
