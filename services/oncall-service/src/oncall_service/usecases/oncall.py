"""Who is on call: a schedule's shifts over a range, and the primary and chain for a service or team."""

import uuid
from collections import defaultdict
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from oncall_service.db import queries
from oncall_service.domain.escalation import Target, level_users, primary
from oncall_service.domain.rotation import layer_shifts
from oncall_service.domain.schedule import LAYER, final_shifts, on_call_at
from oncall_service.usecases.policies import target_names, target_ref
from oncall_service.usecases.results import (
    ChainLevel,
    LayerShifts,
    NamedRef,
    OnCall,
    PagedUser,
    PolicyRef,
    Shift,
    Shifts,
    ShiftSource,
    UserRef,
)
from oncall_service.usecases.schedules import get_schedule, to_domain_layers, to_domain_overrides
from platform_common.errors import BadRequest, NotFound, Unprocessable
from platform_db.models import EscalationPolicy, Schedule, Service, Team, User

MAX_RANGE = timedelta(days=366)
_INSTANT = timedelta(microseconds=1)


def _user_ref(users: dict[uuid.UUID, User], user_id: str) -> UserRef:
    user = users[uuid.UUID(user_id)]
    return UserRef(id=user.id, name=user.name, email=user.email)


def _paged_user(users: dict[uuid.UUID, User], user_id: str) -> PagedUser:
    user = users[uuid.UUID(user_id)]
    return PagedUser(
        id=user.id,
        name=user.name,
        email=user.email,
        contact_methods=list(user.contact_methods),
        muted_channels=list(user.muted_channels),
        muted_severities=list(user.muted_severities),
    )


async def schedule_shifts(session: AsyncSession, *, schedule_id: uuid.UUID, start: datetime, end: datetime) -> Shifts:
    """The final shifts of a schedule over [start, end), and each layer's own shifts."""
    if end <= start:
        raise Unprocessable("`to` must be after `from`")
    if end - start > MAX_RANGE:
        raise Unprocessable(f"the range may span at most {MAX_RANGE.days} days")
    schedule = await get_schedule(session, schedule_id=schedule_id)
    layers = to_domain_layers(schedule)
    overrides = await queries.overrides_between(session, schedule_ids=[schedule_id], start=start, end=end)
    final = final_shifts(layers, to_domain_overrides(overrides), start, end)
    per_layer = {layer.id: layer_shifts(layer, start, end) for layer in layers}
    user_ids = {s.user_id for s in final} | {s.user_id for shifts in per_layer.values() for s in shifts}
    users = await queries.users_by_ids(session, ids=[uuid.UUID(u) for u in user_ids])
    layer_names = {str(layer.id): layer.name for layer in schedule.layers}
    return Shifts(
        schedule_id=schedule.id,
        timezone=schedule.timezone,
        start=start,
        end=end,
        shifts=[
            Shift(
                user=_user_ref(users, s.user_id),
                start=s.start,
                end=s.end,
                source=ShiftSource(
                    type=s.source_type,
                    id=uuid.UUID(s.source_id),
                    name=layer_names.get(s.source_id) if s.source_type == LAYER else None,
                ),
            )
            for s in final
        ],
        layers=[
            LayerShifts(
                id=layer.id,
                name=layer.name,
                priority=layer.priority,
                shifts=[
                    Shift(
                        user=_user_ref(users, s.user_id),
                        start=s.start,
                        end=s.end,
                        source=ShiftSource(type=LAYER, id=layer.id, name=layer.name),
                    )
                    for s in per_layer[str(layer.id)]
                ],
            )
            for layer in schedule.layers
        ],
    )


async def on_call_by_schedule(
    session: AsyncSession, *, schedules: list[Schedule], at: datetime
) -> dict[str, str | None]:
    """schedule id -> the user id on call at `at` (None where nobody covers it)."""
    overrides = await queries.overrides_between(
        session, schedule_ids=[s.id for s in schedules], start=at, end=at + _INSTANT
    )
    by_schedule = defaultdict(list)
    for override in overrides:
        by_schedule[override.schedule_id].append(override)
    result: dict[str, str | None] = {}
    for schedule in schedules:
        shift = on_call_at(to_domain_layers(schedule), to_domain_overrides(by_schedule[schedule.id]), at)
        result[str(schedule.id)] = shift.user_id if shift else None
    return result


async def _subject(session: AsyncSession, service: str | None, team: str | None) -> tuple[Service | None, Team | None]:
    if (service is None) == (team is None):
        raise BadRequest("give exactly one of ?service=<name> or ?team=<name or id>")
    if service is not None:
        found = await queries.service_by_name(session, name=service)
        if found is None:
            raise NotFound(f"unknown service {service!r}")
        owner = await queries.by_id(session, model=Team, id=found.team_id) if found.team_id else None
        return found, owner
    owner = await queries.team_by_name_or_id(session, key=team or "")
    if owner is None:
        raise NotFound(f"unknown team {team!r}")
    return None, owner


async def current(session: AsyncSession, *, service: str | None, team: str | None, at: datetime) -> OnCall:
    """Who a service's (or team's) incident pages at `at`: the primary and every level."""
    found_service, found_team = await _subject(session, service, team)
    policy_id = (found_service.escalation_policy_id if found_service else None) or (
        found_team.escalation_policy_id if found_team else None
    )
    policy = await queries.by_id(session, model=EscalationPolicy, id=policy_id) if policy_id else None

    chain_user_ids: list[list[str]] = []
    if policy is not None:
        schedule_ids = {t.schedule_id for level in policy.levels for t in level.targets if t.schedule_id}
        schedules = list((await queries.schedules_by_ids(session, ids=schedule_ids)).values())
        on_call = await on_call_by_schedule(session, schedules=schedules, at=at)
        for level in policy.levels:
            targets = [Target(t.target_type, str(t.user_id or t.schedule_id)) for t in level.targets]
            chain_user_ids.append(level_users(targets, on_call))
        primary_id = primary(chain_user_ids)
    else:
        # No policy: whoever the team's schedules (in name order) put on call.
        schedules = list(await queries.team_schedules(session, team_id=found_team.id)) if found_team else []
        on_call = await on_call_by_schedule(session, schedules=schedules, at=at)
        primary_id = next((on_call[str(s.id)] for s in schedules if on_call[str(s.id)]), None)

    every_user = {uuid.UUID(u) for users in chain_user_ids for u in users}
    if primary_id:
        every_user.add(uuid.UUID(primary_id))
    users = await queries.users_by_ids(session, ids=every_user)
    names = await target_names(session, policies=[policy]) if policy else {}
    return OnCall(
        at=at,
        service=NamedRef(id=found_service.id, name=found_service.name) if found_service else None,
        team=NamedRef(id=found_team.id, name=found_team.name) if found_team else None,
        escalation_policy=PolicyRef(id=policy.id, name=policy.name, repeat_count=policy.repeat_count)
        if policy
        else None,
        primary=_paged_user(users, primary_id) if primary_id else None,
        escalation_chain=[
            ChainLevel(
                level=level.position,
                delay_minutes=level.delay_minutes,
                targets=[target_ref(t, names) for t in level.targets],
                users=[_paged_user(users, u) for u in level_user_ids],
            )
            for level, level_user_ids in zip(policy.levels, chain_user_ids, strict=True)
        ]
        if policy
        else [],
    )
