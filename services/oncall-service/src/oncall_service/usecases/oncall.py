"""Who is on call: a schedule's shifts over a range, the primary and the chain for
a service or team at a moment, and who holds each schedule now (the UI's overview)."""

import uuid
from collections import defaultdict
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from oncall_service.db import queries
from oncall_service.domain.escalation import SCHEDULE, Target, paged
from oncall_service.domain.rotation import layer_shifts
from oncall_service.domain.schedule import LAYER, Gap, final_shifts, gaps, on_call_at
from oncall_service.schemas.schedules import SchedulePreviewIn
from oncall_service.usecases.rows import get_or_404, require_existing
from oncall_service.usecases.schedules import (
    domain_layers_by_schedule,
    preview_layers,
    to_domain_layers,
    to_domain_overrides,
)
from platform_common.errors import BadRequest, NotFound, Unprocessable
from platform_db.models import Schedule, Service, Team, User

MAX_RANGE = timedelta(days=366)
# How far the overview looks for the end of the shift running now.
LOOK_AHEAD = timedelta(days=31)
_INSTANT = timedelta(microseconds=1)


@dataclass(frozen=True)
class ShiftSource:
    """The layer or override that puts someone on call."""

    type: str
    id: uuid.UUID
    name: str | None = None


@dataclass(frozen=True)
class Shift:
    """`user` is on call over [start, end), put there by `source`."""

    user: User
    start: datetime
    end: datetime
    source: ShiftSource


@dataclass(frozen=True)
class LayerShifts:
    """One rotation layer's own shifts, before priorities and overrides."""

    id: uuid.UUID
    name: str
    priority: int
    shifts: list[Shift]


@dataclass(frozen=True)
class Shifts:
    """A schedule's final shifts over [start, end), and each layer's own."""

    schedule_id: uuid.UUID
    timezone: str
    start: datetime
    end: datetime
    shifts: list[Shift]
    layers: list[LayerShifts]
    gaps: list[Gap]


async def schedule_shifts(session: AsyncSession, *, schedule_id: uuid.UUID, start: datetime, end: datetime) -> Shifts:
    """The final shifts of a schedule over [start, end), and each layer's own shifts."""
    if end <= start:
        raise Unprocessable("`to` must be after `from`")
    if end - start > MAX_RANGE:
        raise Unprocessable(f"the range may span at most {MAX_RANGE.days} days")
    schedule = await get_or_404(session, model=Schedule, id=schedule_id)
    layers = to_domain_layers(schedule)
    overrides = await queries.overrides_between(session, schedule_ids=[schedule_id], start=start, end=end)
    final = final_shifts(layers, to_domain_overrides(overrides)[schedule_id], start, end)
    per_layer = {layer.id: layer_shifts(layer, start, end) for layer in layers}
    user_ids = {s.user_id for s in final} | {s.user_id for shifts in per_layer.values() for s in shifts}
    users = await queries.rows_by_ids(session, model=User, ids=[uuid.UUID(u) for u in user_ids])
    layer_names = {str(layer.id): layer.name for layer in schedule.layers}

    def shift(user_id: str, start: datetime, end: datetime, source_type: str, source_id: str) -> Shift:
        name = layer_names[source_id] if source_type == LAYER else None
        return Shift(users[uuid.UUID(user_id)], start, end, ShiftSource(source_type, uuid.UUID(source_id), name))

    return Shifts(
        schedule_id=schedule.id,
        timezone=schedule.timezone,
        start=start,
        end=end,
        gaps=gaps(final, start, end),
        shifts=[shift(s.user_id, s.start, s.end, s.source_type, s.source_id) for s in final],
        layers=[
            LayerShifts(
                id=layer.id,
                name=layer.name,
                priority=layer.priority,
                shifts=[shift(s.user_id, s.start, s.end, LAYER, str(layer.id)) for s in per_layer[str(layer.id)]],
            )
            for layer in schedule.layers
        ],
    )


# How far ahead the schedule form's preview looks.
PREVIEW_SPAN = timedelta(days=14)


@dataclass(frozen=True)
class PreviewShift:
    """`user` would be on call over [start, end), put there by a layer or an override."""

    user: User
    start: datetime
    end: datetime
    source_type: str


@dataclass(frozen=True)
class Preview:
    """The final schedule a form would make over [start, end), and its gaps."""

    timezone: str
    start: datetime
    end: datetime
    shifts: list[PreviewShift]
    gaps: list[Gap]


async def preview(session: AsyncSession, *, body: SchedulePreviewIn, now: datetime) -> Preview:
    """What saving the form would put on call from `now` for two weeks: its layers
    (defaults as saving gives them), with the stored schedule's overrides when it
    names one, and every gap. Nothing is written."""
    member_ids = [uid for layer in body.layers for uid in layer.members]
    await require_existing(session, model=User, ids=member_ids)
    end = now + PREVIEW_SPAN
    overrides = []
    if body.schedule_id is not None:
        await get_or_404(session, model=Schedule, id=body.schedule_id)
        stored = await queries.overrides_between(session, schedule_ids=[body.schedule_id], start=now, end=end)
        overrides = to_domain_overrides(stored)[body.schedule_id]
    final = final_shifts(preview_layers(body.layers, body.timezone, now=now), overrides, now, end)
    users = await queries.rows_by_ids(session, model=User, ids=[uuid.UUID(s.user_id) for s in final])
    return Preview(
        timezone=body.timezone,
        start=now,
        end=end,
        shifts=[PreviewShift(users[uuid.UUID(s.user_id)], s.start, s.end, s.source_type) for s in final],
        gaps=gaps(final, now, end),
    )


async def on_call_by_schedule(
    session: AsyncSession, *, schedule_ids: Collection[uuid.UUID], at: datetime
) -> dict[str, str | None]:
    """schedule id -> the user id on call at `at` (None where nobody covers it), each
    schedule worked out once however many levels and services page through it."""
    layers = await domain_layers_by_schedule(session, schedule_ids=schedule_ids)
    overrides = await queries.override_spans(session, schedule_ids=schedule_ids, start=at, end=at + _INSTANT)
    by_schedule = to_domain_overrides(overrides)
    result: dict[str, str | None] = {}
    for schedule_id in set(schedule_ids):
        shift = on_call_at(layers[schedule_id], by_schedule[schedule_id], at)
        result[str(schedule_id)] = shift.user_id if shift else None
    return result


@dataclass(frozen=True)
class NamedTarget:
    """A level's target: a user or a schedule, with its name."""

    type: str
    id: uuid.UUID
    name: str


@dataclass(frozen=True)
class Level:
    """A policy's level as stored: its position, delay and targets in order."""

    position: int
    delay_minutes: int
    targets: list[NamedTarget]


@dataclass(frozen=True)
class Chain:
    """An escalation policy as the chain reads it (what queries.policy_chains gives)."""

    id: uuid.UUID
    name: str
    repeat_count: int
    levels: list[Level]


async def _chains(session: AsyncSession, *, policy_ids: Collection[uuid.UUID]) -> dict[uuid.UUID, Chain]:
    """These policies with their levels and named targets, by id, from one statement's plain rows."""
    chains: dict[uuid.UUID, Chain] = {}
    # Unpacked as tuples: a row's attributes by name cost more here than the rest of the loop.
    for (
        policy_id,
        name,
        repeat_count,
        position,
        delay,
        target_type,
        user_id,
        schedule_id,
        target_name,
    ) in await queries.policy_chains(session, policy_ids=policy_ids):
        chain = chains.get(policy_id)
        if chain is None:
            chain = chains[policy_id] = Chain(policy_id, name, repeat_count, [])
        if position is None:
            continue
        if not chain.levels or chain.levels[-1].position != position:
            chain.levels.append(Level(position, delay, []))
        if target_type is not None:
            chain.levels[-1].targets.append(NamedTarget(target_type, user_id or schedule_id, target_name))
    return chains


@dataclass(frozen=True)
class ChainLevel:
    """One escalation level at a moment: its targets, and the people they page then."""

    level: int
    delay_minutes: int
    targets: list[NamedTarget]
    users: list[User]

    @property
    def user_ids(self) -> list[uuid.UUID]:
        """Who the level pages, by id (schemas.policies.PagedLevel)."""
        return [user.id for user in self.users]


@dataclass(frozen=True)
class OnCall:
    """Who a service's (or team's) incident pages at `at`: the primary and every level."""

    at: datetime
    service: Service | None
    team: Team | None
    escalation_policy: Chain | None
    primary: User | None
    escalation_chain: list[ChainLevel]

    @property
    def acknowledgement_timeout_minutes(self) -> int | None:
        """The service's acknowledgement timeout; a team has none of its own."""
        return self.service.acknowledgement_timeout_minutes if self.service else None

    @property
    def primary_id(self) -> uuid.UUID | None:
        """The primary by id (schemas.policies.ServiceOnCall)."""
        return self.primary.id if self.primary else None


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


def _policy_id(service: Service | None, team: Team | None) -> uuid.UUID | None:
    """The policy that pages: the service's own, else its team's."""
    return (service.escalation_policy_id if service else None) or (team.escalation_policy_id if team else None)


async def _on_call(
    session: AsyncSession, *, subjects: Sequence[tuple[Service | None, Team | None]], at: datetime
) -> list[OnCall]:
    """Who each (service, team) pages at `at`. The rows every subject needs (policies,
    schedules, overrides, users, names) are read once for all of them, as plain rows
    where there are many, so asking for two hundred services costs the statements that
    asking for one does; each schedule's on-call is worked out once, and who is paged
    per subject by the pure domain.paged."""
    chains = await _chains(session, policy_ids={p for s, t in subjects if (p := _policy_id(s, t))})
    fallback = await queries.schedules_of_teams(
        session, team_ids={t.id for s, t in subjects if t and not _policy_id(s, t)}
    )
    targeted = {t.id for c in chains.values() for level in c.levels for t in level.targets if t.type == SCHEDULE}
    on_call = await on_call_by_schedule(session, schedule_ids=targeted | {s.id for s in fallback}, at=at)
    by_team: dict[uuid.UUID | None, list[str]] = defaultdict(list)
    for schedule in fallback:
        by_team[schedule.team_id].append(str(schedule.id))
    answers = []
    for service, team in subjects:
        chain = chains.get(_policy_id(service, team))
        levels = [[Target(t.type, str(t.id)) for t in level.targets] for level in chain.levels] if chain else None
        answers.append((service, team, chain, paged(levels, by_team[team.id] if team else [], on_call)))
    every_id: set[str] = set()
    for *_, found in answers:
        every_id.update(u for ids in found.levels for u in ids)
        every_id.update([found.primary] if found.primary else [])
    users = await queries.rows_by_ids(session, model=User, ids=[uuid.UUID(u) for u in every_id])
    return [
        OnCall(
            at=at,
            service=service,
            team=team,
            escalation_policy=chain,
            primary=users[uuid.UUID(found.primary)] if found.primary else None,
            escalation_chain=[
                ChainLevel(level.position, level.delay_minutes, level.targets, [users[uuid.UUID(u)] for u in ids])
                for level, ids in zip(chain.levels if chain else [], found.levels, strict=True)
            ],
        )
        for service, team, chain, found in answers
    ]


async def current(session: AsyncSession, *, service: str | None, team: str | None, at: datetime) -> OnCall:
    """Who a service's (or team's) incident pages at `at`: the primary and every level."""
    subject = await _subject(session, service, team)
    return (await _on_call(session, subjects=[subject], at=at))[0]


async def current_for_services(session: AsyncSession, *, services: Sequence[Service], at: datetime) -> list[OnCall]:
    """What `current` answers for each of these services, in their order, with a bounded
    number of statements however many there are (the on-call page asks for every one)."""
    teams = await queries.teams_without_members(session, ids={s.team_id for s in services if s.team_id})
    return await _on_call(session, subjects=[(s, teams[s.team_id] if s.team_id else None) for s in services], at=at)


def people(answers: Sequence[OnCall]) -> dict[uuid.UUID, User]:
    """Everyone these answers page, by id, each once (OnCallServices.users)."""
    found: dict[uuid.UUID, User] = {}
    for answer in answers:
        for user in [answer.primary, *(u for level in answer.escalation_chain for u in level.users)]:
            if user is not None:
                found[user.id] = user
    return found


@dataclass(frozen=True)
class OnCallNow:
    """A schedule with who is on call in it at a moment, and until when (None: past the look-ahead)."""

    schedule: Schedule
    user: User | None
    until: datetime | None


async def on_call_everywhere(session: AsyncSession, *, schedules: Sequence[Schedule], at: datetime) -> list[OnCallNow]:
    """Each of these schedules with the person on call at `at` and when their shift ends."""
    horizon = at + LOOK_AHEAD
    overrides = await queries.overrides_between(session, schedule_ids=[s.id for s in schedules], start=at, end=horizon)
    by_schedule = to_domain_overrides(overrides)
    running = []
    for schedule in schedules:
        shifts = final_shifts(to_domain_layers(schedule), by_schedule[schedule.id], at, horizon)
        running.append((schedule, shifts[0] if shifts and shifts[0].start == at else None))
    users = await queries.rows_by_ids(
        session, model=User, ids=[uuid.UUID(s.user_id) for _, s in running if s is not None]
    )
    return [
        OnCallNow(
            schedule=schedule,
            user=users[uuid.UUID(shift.user_id)] if shift else None,
            until=shift.end if shift and shift.end < horizon else None,
        )
        for schedule, shift in running
    ]
