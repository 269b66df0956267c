"""Schedules and their rotation layers: create, change, remove; the stored rows as
the rotation arithmetic (domain.rotation, domain.schedule) sees them."""

import uuid
from collections import defaultdict
from collections.abc import Collection, Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import Row
from sqlalchemy.ext.asyncio import AsyncSession

from oncall_service.db import queries
from oncall_service.domain.rotation import Layer, RotationType, covering_start_date, layer_start
from oncall_service.domain.schedule import Override
from oncall_service.domain.timezones import parse_handoff, zone
from oncall_service.schemas.schedules import LayerIn, ScheduleCreate, ScheduleUpdate
from oncall_service.usecases.rows import apply_changes, create, find, get_or_404, require_may_be_on_call
from platform_common.errors import Conflict, Unprocessable
from platform_db.models import LayerMember, Schedule, ScheduleLayer, ScheduleOverride, User


def to_domain_layer(layer: ScheduleLayer | Row[Any], timezone: str, member_ids: Iterable[uuid.UUID]) -> Layer:
    """The stored layer (its row, or queries.rotation_layers' plain row of the same
    columns) with its members' user ids in turn order, as the pure rotation arithmetic sees it."""
    return Layer(
        id=str(layer.id),
        priority=layer.priority,
        rotation_type=RotationType(layer.rotation_type),
        shift_length=layer.shift_length,
        handoff=parse_handoff(layer.handoff_time),
        start_date=layer.start_date,
        timezone=zone(timezone),
        members=tuple(str(user_id) for user_id in member_ids),
        end=layer.end_at,
    )


def to_domain_layers(schedule: Schedule) -> list[Layer]:
    """The schedule's layers for the rotation arithmetic."""
    return [
        to_domain_layer(layer, schedule.timezone, [member.user_id for member in layer.members])
        for layer in schedule.layers
    ]


async def domain_layers_by_schedule(
    session: AsyncSession, *, schedule_ids: Collection[uuid.UUID]
) -> dict[uuid.UUID, list[Layer]]:
    """What to_domain_layers gives for each of these schedules (one without layers, or
    unknown: an empty list), read as plain rows in one statement for any number of them."""
    by_schedule: dict[uuid.UUID, list[Layer]] = defaultdict(list)
    for row in await queries.rotation_layers(session, schedule_ids=schedule_ids):
        by_schedule[row.schedule_id].append(to_domain_layer(row, row.timezone, row.member_ids or ()))
    return by_schedule


def to_domain_overrides(overrides: Iterable[ScheduleOverride | Row[Any]]) -> dict[uuid.UUID, list[Override]]:
    """Stored overrides (rows, or queries.override_spans' plain rows) for the rotation
    arithmetic, by schedule (a schedule without any gets an empty list)."""
    by_schedule: dict[uuid.UUID, list[Override]] = defaultdict(list)
    for o in overrides:
        by_schedule[o.schedule_id].append(Override(str(o.id), str(o.user_id), o.start_at, o.end_at))
    return by_schedule


async def _build_layers(
    session: AsyncSession, layers: list[LayerIn], timezone: str, *, now: datetime, taken: set[int] | None = None
) -> list[ScheduleLayer]:
    """New layer rows from the request, checked: known members, distinct priorities
    (`taken` are those of the schedule's other layers), sane ranges. A layer without
    a priority goes above every layer before it; one without a start date covers
    from `now` (its first shift runs until the next handoff)."""
    taken = set(taken or ())
    member_ids = [uid for layer in layers for uid in layer.members]
    await require_may_be_on_call(session, ids=member_ids, loc=["body", "members"])
    users = await queries.rows_by_ids(session, model=User, ids=member_ids)
    built = []
    for number, layer_in in enumerate(layers, start=1):
        label = f"layer {layer_in.name or number}"
        priority = layer_in.priority if layer_in.priority is not None else max(taken, default=-1) + 1
        if priority in taken:
            raise Unprocessable(f"{label}: another layer of this schedule already has priority {priority}")
        taken.add(priority)
        layer = ScheduleLayer(
            id=uuid.uuid4(),
            **layer_in.model_dump(exclude={"name", "priority", "members", "start_date"}),
            start_date=layer_in.start_date
            or covering_start_date(parse_handoff(layer_in.handoff_time), zone(timezone), now),
            name=layer_in.name or f"Layer {priority + 1}",
            priority=priority,
            members=[LayerMember(position=n, user_id=uid, user=users[uid]) for n, uid in enumerate(layer_in.members)],
        )
        starts = layer_start(to_domain_layer(layer, timezone, layer_in.members))
        if layer.end_at is not None and layer.end_at <= starts:
            raise Unprocessable(f"{label}: end_at must be after the layer starts ({starts.isoformat()})")
        built.append(layer)
    return built


async def create_schedule(session: AsyncSession, *, schedule_in: ScheduleCreate, now: datetime) -> Schedule:
    """Create a schedule with its layers; 409 when the name is taken."""
    return await create(
        session,
        Schedule,
        schedule_in,
        layers=lambda: _build_layers(session, schedule_in.layers, schedule_in.timezone, now=now),
    )


async def update_schedule(
    session: AsyncSession, *, schedule_id: uuid.UUID, schedule_in: ScheduleUpdate, now: datetime
) -> Schedule:
    """Change a schedule; layers given replace every layer."""
    schedule = await get_or_404(session, model=Schedule, id=schedule_id)
    # Layers are built after the other fields: in the schedule's new time zone, when one is given.
    await apply_changes(
        session,
        schedule,
        schedule_in,
        layers=lambda: _build_layers(session, schedule_in.layers, schedule.timezone, now=now),
    )
    return schedule


async def delete_schedule(session: AsyncSession, *, schedule_id: uuid.UUID) -> None:
    """Remove a schedule; 409 while an escalation policy targets it."""
    schedule = await get_or_404(session, model=Schedule, id=schedule_id)
    policies = await queries.policies_targeting_schedule(session, schedule_id=schedule_id)
    if policies:
        raise Conflict(
            f"schedule {schedule_id} is a target of escalation policies: {', '.join(policies)}; remove it there first",
            policies=policies,
        )
    await session.delete(schedule)
    await session.flush()


async def add_layer(
    session: AsyncSession, *, schedule_id: uuid.UUID, layer_in: LayerIn, now: datetime
) -> ScheduleLayer:
    """Add a layer to a schedule."""
    schedule = await get_or_404(session, model=Schedule, id=schedule_id)
    taken = {layer.priority for layer in schedule.layers}
    [layer] = await _build_layers(session, [layer_in], schedule.timezone, now=now, taken=taken)
    schedule.layers.append(layer)
    await session.flush()
    return layer


def _find_layer(schedule: Schedule, layer_id: uuid.UUID) -> ScheduleLayer:
    return find(schedule.layers, f"layer {layer_id} not found in schedule {schedule.id}", id=layer_id)


async def replace_layer(
    session: AsyncSession, *, schedule_id: uuid.UUID, layer_id: uuid.UUID, layer_in: LayerIn, now: datetime
) -> ScheduleLayer:
    """Replace a layer's content; it keeps its id, and its name and priority unless given."""
    schedule = await get_or_404(session, model=Schedule, id=schedule_id)
    old = _find_layer(schedule, layer_id)
    taken = {layer.priority for layer in schedule.layers if layer.id != layer_id}
    kept = layer_in.model_copy(update={"priority": old.priority if layer_in.priority is None else layer_in.priority})
    [layer] = await _build_layers(session, [kept], schedule.timezone, now=now, taken=taken)
    # Same id, new content: the layer keeps its identity for the UI.
    old_name = old.name
    old.members.clear()
    await session.flush()
    for field in ("name", "priority", "rotation_type", "shift_length", "handoff_time", "start_date", "end_at"):
        setattr(old, field, getattr(layer, field))
    if layer_in.name is None:
        old.name = old_name
    old.members.extend(LayerMember(position=m.position, user_id=m.user_id, user=m.user) for m in layer.members)
    await session.flush()
    return old


async def delete_layer(session: AsyncSession, *, schedule_id: uuid.UUID, layer_id: uuid.UUID) -> None:
    """Remove a layer from a schedule."""
    schedule = await get_or_404(session, model=Schedule, id=schedule_id)
    schedule.layers.remove(_find_layer(schedule, layer_id))
    await session.flush()


def preview_layers(layers: list[LayerIn], timezone: str, *, now: datetime) -> list[Layer]:
    """The layers of a form not yet saved, as the rotation arithmetic sees them, with
    the defaults saving would give them (start date, priority)."""
    domain = []
    for number, layer_in in enumerate(layers):
        priority = layer_in.priority if layer_in.priority is not None else number
        handoff = parse_handoff(layer_in.handoff_time)
        domain.append(
            Layer(
                id=f"preview-{number}",
                priority=priority,
                rotation_type=RotationType(layer_in.rotation_type),
                shift_length=layer_in.shift_length,
                handoff=handoff,
                start_date=layer_in.start_date or covering_start_date(handoff, zone(timezone), now),
                timezone=zone(timezone),
                members=tuple(str(uid) for uid in layer_in.members),
                end=layer_in.end_at,
            )
        )
    return domain
