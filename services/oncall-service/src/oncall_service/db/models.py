"""SQLAlchemy models of the on-call tables (schema: database/migrations/versions/0001_oncall.py)."""

import uuid
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import JSON, Date, ForeignKey, Integer, String, Text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from platform_common.db import UTCDateTime


class Base(DeclarativeBase):
    pass


def _utcnow() -> datetime:
    return datetime.now(UTC)


class Timestamps:
    # Set in Python, not by the server, so the values are known right after a
    # flush without another round trip (async sessions cannot lazy-load them).
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=_utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=_utcnow, onupdate=_utcnow)


class User(Timestamps, Base):
    __tablename__ = "users"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str] = mapped_column(String(320), unique=True)
    timezone: Mapped[str] = mapped_column(String(64), default="UTC")
    muted_channels: Mapped[list[Any]] = mapped_column(JSON, default=list)
    muted_severities: Mapped[list[Any]] = mapped_column(JSON, default=list)

    contact_methods: Mapped[list["ContactMethod"]] = relationship(
        back_populates="user", cascade="all, delete-orphan", order_by="ContactMethod.created_at", lazy="selectin"
    )


class ContactMethod(Base):
    __tablename__ = "contact_methods"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    type: Mapped[str] = mapped_column(String(20))
    address: Mapped[str] = mapped_column(String(2048))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=_utcnow)

    user: Mapped[User] = relationship(back_populates="contact_methods")


class Team(Timestamps, Base):
    __tablename__ = "teams"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    description: Mapped[str] = mapped_column(Text, default="")
    escalation_policy_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("escalation_policies.id", ondelete="SET NULL", use_alter=True)
    )

    members: Mapped[list["TeamMember"]] = relationship(
        back_populates="team", cascade="all, delete-orphan", lazy="selectin"
    )


class TeamMember(Base):
    __tablename__ = "team_members"

    team_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("teams.id", ondelete="CASCADE"), primary_key=True)
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    role: Mapped[str] = mapped_column(String(20), default="member")

    team: Mapped[Team] = relationship(back_populates="members")
    user: Mapped[User] = relationship(lazy="selectin")


class Schedule(Timestamps, Base):
    __tablename__ = "schedules"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    description: Mapped[str] = mapped_column(Text, default="")
    team_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("teams.id", ondelete="SET NULL"))
    timezone: Mapped[str] = mapped_column(String(64))

    layers: Mapped[list["ScheduleLayer"]] = relationship(
        back_populates="schedule",
        cascade="all, delete-orphan",
        order_by="ScheduleLayer.priority.desc()",
        lazy="selectin",
    )


class ScheduleLayer(Timestamps, Base):
    __tablename__ = "schedule_layers"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    schedule_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("schedules.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(200))
    priority: Mapped[int] = mapped_column(Integer)
    rotation_type: Mapped[str] = mapped_column(String(10))
    shift_length: Mapped[int] = mapped_column(Integer, default=1)
    handoff_time: Mapped[str] = mapped_column(String(5), default="09:00")
    start_date: Mapped[date] = mapped_column(Date)
    end_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    schedule: Mapped[Schedule] = relationship(back_populates="layers")
    members: Mapped[list["LayerMember"]] = relationship(
        cascade="all, delete-orphan", order_by="LayerMember.position", lazy="selectin"
    )


class LayerMember(Base):
    __tablename__ = "layer_members"

    layer_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("schedule_layers.id", ondelete="CASCADE"), primary_key=True)
    position: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"))

    user: Mapped[User] = relationship(lazy="selectin")


class ScheduleOverride(Base):
    __tablename__ = "schedule_overrides"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    schedule_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("schedules.id", ondelete="CASCADE"))
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"))
    start_at: Mapped[datetime] = mapped_column(UTCDateTime())
    end_at: Mapped[datetime] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=_utcnow)

    user: Mapped[User] = relationship(lazy="selectin")


class EscalationPolicy(Timestamps, Base):
    __tablename__ = "escalation_policies"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    description: Mapped[str] = mapped_column(Text, default="")
    team_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("teams.id", ondelete="SET NULL"))
    repeat_count: Mapped[int] = mapped_column(Integer, default=0)

    levels: Mapped[list["EscalationLevel"]] = relationship(
        cascade="all, delete-orphan", order_by="EscalationLevel.position", lazy="selectin"
    )


class EscalationLevel(Base):
    __tablename__ = "escalation_levels"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    policy_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("escalation_policies.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(Integer)
    delay_minutes: Mapped[int] = mapped_column(Integer)

    targets: Mapped[list["EscalationTarget"]] = relationship(
        cascade="all, delete-orphan", order_by="EscalationTarget.position", lazy="selectin"
    )


class EscalationTarget(Base):
    __tablename__ = "escalation_targets"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    level_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("escalation_levels.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(Integer)
    target_type: Mapped[str] = mapped_column(String(10))
    user_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    schedule_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("schedules.id", ondelete="CASCADE"))


class Service(Timestamps, Base):
    __tablename__ = "services"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    description: Mapped[str] = mapped_column(Text, default="")
    team_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("teams.id", ondelete="SET NULL"))
    escalation_policy_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("escalation_policies.id", ondelete="SET NULL")
    )
