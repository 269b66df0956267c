"""Reads and locks on the on-call tables. Keyword-only; they never commit."""

import uuid
from collections.abc import Collection, Sequence
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import Row, Select, exists, func, or_, select
from sqlalchemy.dialects.postgresql import aggregate_order_by
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import raiseload

from platform_db.models import (
    EscalationLevel,
    EscalationPolicy,
    EscalationTarget,
    LayerMember,
    Schedule,
    ScheduleLayer,
    ScheduleOverride,
    Service,
    Team,
    User,
)

M = TypeVar("M")


async def page(session: AsyncSession, *, statement: Select[Any], limit: int, offset: int) -> tuple[Sequence[Any], int]:
    """One page of `statement`'s rows and the total count without paging."""
    total = await session.scalar(select(func.count()).select_from(statement.order_by(None).subquery()))
    rows = (await session.scalars(statement.limit(limit).offset(offset))).all()
    return rows, total or 0


def by_name(*, model: type[Any], team_id: uuid.UUID | None = None) -> Select[Any]:
    """Rows of `model` by name (then id, so pages are stable), optionally only one team's."""
    statement = select(model).order_by(model.name, model.id)
    if team_id is not None:
        statement = statement.where(model.team_id == team_id)
    return statement


def users_matching(*, search: str | None) -> Select[Any]:
    """Users by name, optionally those whose name or email contains `search`."""
    statement = by_name(model=User)
    if search:
        pattern = f"%{search.lower()}%"
        statement = statement.where((User.name.ilike(pattern)) | (User.email.ilike(pattern)))
    return statement


async def by_id(session: AsyncSession, *, model: type[M], id: uuid.UUID) -> M | None:
    """A row of `model` by id, or None."""
    return await session.get(model, id)


async def name_taken(session: AsyncSession, *, model: type[Any], name: str, except_id: uuid.UUID | None = None) -> bool:
    """Whether another row of `model` already has `name` (names are unique per resource)."""
    clauses = [model.name == name]
    if except_id:
        clauses.append(model.id != except_id)
    return bool(await session.scalar(select(exists().where(*clauses))))


async def email_taken(session: AsyncSession, *, email: str, except_id: uuid.UUID | None = None) -> bool:
    """True when another user (not `except_id`) has this email."""
    clauses = [func.lower(User.email) == email.lower()]
    if except_id:
        clauses.append(User.id != except_id)
    return bool(await session.scalar(select(exists().where(*clauses))))


async def existing_ids(session: AsyncSession, *, model: type[Any], ids: Collection[uuid.UUID]) -> set[uuid.UUID]:
    """Which of these ids exist as rows of `model`."""
    if not ids:
        return set()
    return set(await session.scalars(select(model.id).where(model.id.in_(set(ids)))))


async def names_by_ids(session: AsyncSession, *, model: type[Any], ids: Collection[uuid.UUID]) -> dict[uuid.UUID, str]:
    """The names of the rows of `model` with these ids, by id."""
    if not ids:
        return {}
    rows = await session.execute(select(model.id, model.name).where(model.id.in_(set(ids))))
    return {row.id: row.name for row in rows}


async def service_by_name(session: AsyncSession, *, name: str) -> Service | None:
    """The service of this name, or None."""
    return await session.scalar(select(Service).where(Service.name == name))


async def team_by_name_or_id(session: AsyncSession, *, key: str) -> Team | None:
    """The team with this name or id, or None."""
    try:
        team_id = uuid.UUID(key)
    except ValueError:
        return await session.scalar(select(Team).where(Team.name == key))
    return await session.scalar(select(Team).where(or_(Team.id == team_id, Team.name == key)))


async def schedules_of_teams(session: AsyncSession, *, team_ids: Collection[uuid.UUID]) -> Sequence[Row[Any]]:
    """These teams' schedules (id, team_id), by name."""
    if not team_ids:
        return []
    statement = select(Schedule.id, Schedule.team_id).where(Schedule.team_id.in_(set(team_ids)))
    return (await session.execute(statement.order_by(Schedule.name))).all()


async def rotation_layers(session: AsyncSession, *, schedule_ids: Collection[uuid.UUID]) -> Sequence[Row[Any]]:
    """Every layer of these schedules as a plain row with its schedule's time zone and its
    members' user ids in turn order (member_ids): what the rotation arithmetic reads
    (usecases.schedules.to_domain_layer), in one statement and without ORM rows, which
    cost most of the on-call page's time when it asked for two hundred schedules."""
    if not schedule_ids:
        return []
    members = (
        select(func.array_agg(aggregate_order_by(LayerMember.user_id, LayerMember.position)))
        .where(LayerMember.layer_id == ScheduleLayer.id)
        .scalar_subquery()
    )
    statement = (
        select(
            ScheduleLayer.schedule_id,
            Schedule.timezone,
            ScheduleLayer.id,
            ScheduleLayer.priority,
            ScheduleLayer.rotation_type,
            ScheduleLayer.shift_length,
            ScheduleLayer.handoff_time,
            ScheduleLayer.start_date,
            ScheduleLayer.end_at,
            members.label("member_ids"),  # NULL for a layer without members
        )
        .join(Schedule, Schedule.id == ScheduleLayer.schedule_id)
        .where(ScheduleLayer.schedule_id.in_(set(schedule_ids)))
        .order_by(ScheduleLayer.schedule_id, ScheduleLayer.priority.desc())
    )
    return (await session.execute(statement)).all()


async def policy_chains(session: AsyncSession, *, policy_ids: Collection[uuid.UUID]) -> Sequence[Row[Any]]:
    """These policies' levels and targets as plain rows, one per target (a policy without
    levels: one row of NULLs after its own columns), in the order they page, each target
    with the name of its user or schedule: the policies, levels, targets and names of any
    number of services in one statement."""
    if not policy_ids:
        return []
    statement = (
        select(
            EscalationPolicy.id.label("policy_id"),
            EscalationPolicy.name.label("policy_name"),
            EscalationPolicy.repeat_count,
            EscalationLevel.position.label("level"),
            EscalationLevel.delay_minutes,
            EscalationTarget.target_type,
            EscalationTarget.user_id,
            EscalationTarget.schedule_id,
            func.coalesce(User.name, Schedule.name, "").label("target_name"),
        )
        .select_from(EscalationPolicy)
        .outerjoin(EscalationLevel, EscalationLevel.policy_id == EscalationPolicy.id)
        .outerjoin(EscalationTarget, EscalationTarget.level_id == EscalationLevel.id)
        .outerjoin(User, User.id == EscalationTarget.user_id)
        .outerjoin(Schedule, Schedule.id == EscalationTarget.schedule_id)
        .where(EscalationPolicy.id.in_(set(policy_ids)))
        .order_by(EscalationPolicy.id, EscalationLevel.position, EscalationTarget.position)
    )
    return (await session.execute(statement)).all()


async def rows_by_ids(session: AsyncSession, *, model: type[M], ids: Collection[uuid.UUID]) -> dict[uuid.UUID, M]:
    """The rows of `model` with these ids that exist, by id: one statement however many."""
    if not ids:
        return {}
    rows = await session.scalars(select(model).where(model.id.in_(set(ids))))
    return {row.id: row for row in rows}


async def teams_without_members(session: AsyncSession, *, ids: Collection[uuid.UUID]) -> dict[uuid.UUID, Team]:
    """These teams by id, their members left unread (reading them raises): who is on
    call needs a team's name and policy, not every member's row with their contact
    methods and rules, which the eager load would bring for every team."""
    if not ids:
        return {}
    rows = await session.scalars(select(Team).where(Team.id.in_(set(ids))).options(raiseload(Team.members)))
    return {row.id: row for row in rows}


async def lock_schedule(session: AsyncSession, *, schedule_id: uuid.UUID) -> Schedule | None:
    """The schedule, row-locked until commit: writers of its overrides queue here.
    The EXCLUDE constraint keeps overrides from overlapping without it; the lock keeps
    concurrent inserts of overlapping overrides from deadlocking inside that
    constraint's check (each waits for the other's uncommitted row: 40P01, not 23P01)."""
    return await session.scalar(
        select(Schedule).where(Schedule.id == schedule_id).with_for_update().execution_options(populate_existing=True)
    )


def overrides_within(
    *, start: datetime, end: datetime, schedule_ids: Collection[uuid.UUID] | None = None
) -> Select[Any]:
    """Overrides that share any time with [start, end), of these schedules (None: of every
    schedule), oldest first. A statement, so the metrics' synchronous session runs it too."""
    statement = select(ScheduleOverride).where(ScheduleOverride.start_at < end, ScheduleOverride.end_at > start)
    if schedule_ids is not None:
        statement = statement.where(ScheduleOverride.schedule_id.in_(set(schedule_ids)))
    return statement.order_by(ScheduleOverride.start_at, ScheduleOverride.created_at)


async def overrides_between(
    session: AsyncSession, *, schedule_ids: Collection[uuid.UUID], start: datetime, end: datetime
) -> Sequence[ScheduleOverride]:
    """Overrides of these schedules that share any time with [start, end), oldest first."""
    if not schedule_ids:
        return []
    rows = await session.scalars(overrides_within(start=start, end=end, schedule_ids=schedule_ids))
    return rows.all()


async def override_spans(
    session: AsyncSession, *, schedule_ids: Collection[uuid.UUID], start: datetime, end: datetime
) -> Sequence[Row[Any]]:
    """overrides_between's overrides as plain rows (id, schedule_id, user_id, start_at,
    end_at): what the rotation arithmetic reads, without the rows of who is in them."""
    if not schedule_ids:
        return []
    statement = overrides_within(start=start, end=end, schedule_ids=schedule_ids).with_only_columns(
        ScheduleOverride.id,
        ScheduleOverride.schedule_id,
        ScheduleOverride.user_id,
        ScheduleOverride.start_at,
        ScheduleOverride.end_at,
    )
    return (await session.execute(statement)).all()


def overrides_of(*, schedule_id: uuid.UUID, start: datetime | None, end: datetime | None) -> Select[Any]:
    """A schedule's overrides, optionally only those touching [start, end), by start."""
    statement = select(ScheduleOverride).where(ScheduleOverride.schedule_id == schedule_id)
    if start is not None:
        statement = statement.where(ScheduleOverride.end_at > start)
    if end is not None:
        statement = statement.where(ScheduleOverride.start_at < end)
    return statement.order_by(ScheduleOverride.start_at, ScheduleOverride.id)


async def user_references(session: AsyncSession, *, user_id: uuid.UUID) -> list[str]:
    """Where a user is still needed: rotations, overrides, escalation targets."""
    found = []
    checks = {
        "a schedule rotation": select(exists().where(LayerMember.user_id == user_id)),
        "a schedule override": select(exists().where(ScheduleOverride.user_id == user_id)),
        "an escalation policy": select(exists().where(EscalationTarget.user_id == user_id)),
    }
    for label, statement in checks.items():
        if await session.scalar(statement):
            found.append(label)
    return found


async def policies_targeting_schedule(session: AsyncSession, *, schedule_id: uuid.UUID) -> list[str]:
    """The names of the escalation policies that target this schedule."""
    rows = await session.scalars(
        select(EscalationPolicy.name)
        .join(EscalationLevel, EscalationLevel.policy_id == EscalationPolicy.id)
        .join(EscalationTarget, EscalationTarget.level_id == EscalationLevel.id)
        .where(EscalationTarget.schedule_id == schedule_id)
        .distinct()
        .order_by(EscalationPolicy.name)
    )
    return list(rows)
