"""Schedules and their rotation layers: create, change, remove."""

import uuid
from collections.abc import Iterable
from dataclasses import replace

from sqlalchemy.ext.asyncio import AsyncSession

from oncall_service.db import queries
from oncall_service.domain.rotation import Layer, RotationType, layer_start
from oncall_service.domain.schedule import Override
from oncall_service.domain.timezones import parse_handoff, zone
from oncall_service.usecases.commands import KEEP, NewLayer, NewSchedule, ScheduleChanges
from oncall_service.usecases.references import require_existing
from platform_common.errors import Conflict, NotFound, Unprocessable
from platform_db.models import LayerMember, Schedule, ScheduleLayer, ScheduleOverride, Team, User


async def get_schedule(session: AsyncSession, *, schedule_id: uuid.UUID) -> Schedule:
    """A schedule by id; 404 when there is none."""
    schedule = await queries.by_id(session, model=Schedule, id=schedule_id)
    if schedule is None:
        raise NotFound(f"schedule {schedule_id} not found")
    return schedule


def to_domain_layer(layer: ScheduleLayer, timezone: str) -> Layer:
    """The stored layer as the pure rotation arithmetic sees it."""
    return Layer(
        id=str(layer.id),
        priority=layer.priority,
        rotation_type=RotationType(layer.rotation_type),
        shift_length=layer.shift_length,
        handoff=parse_handoff(layer.handoff_time),
        start_date=layer.start_date,
        timezone=zone(timezone),
        members=tuple(str(member.user_id) for member in layer.members),
        end=layer.end_at,
    )


def to_domain_layers(schedule: Schedule) -> list[Layer]:
    """The schedule's layers for the rotation arithmetic."""
    return [to_domain_layer(layer, schedule.timezone) for layer in schedule.layers]


def to_domain_overrides(overrides: Iterable[ScheduleOverride]) -> list[Override]:
    """Stored overrides for the rotation arithmetic."""
    return [Override(str(o.id), str(o.user_id), o.start_at, o.end_at) for o in overrides]


def _check_layer(data: NewLayer, timezone: str, label: str) -> None:
    if data.end_at is None:
        return
    probe = Layer(
        id="probe",
        priority=0,
        rotation_type=RotationType(data.rotation_type),
        shift_length=data.shift_length,
        handoff=parse_handoff(data.handoff_time),
        start_date=data.start_date,
        timezone=zone(timezone),
        members=(),
    )
    starts = layer_start(probe)
    if data.end_at <= starts:
        raise Unprocessable(f"{label}: end_at must be after the layer starts ({starts.isoformat()})")


async def _build_layers(
    session: AsyncSession, layers: list[NewLayer], timezone: str, *, taken: set[int] | None = None
) -> list[ScheduleLayer]:
    """New layer rows from the request, checked: known members, distinct priorities
    (`taken` are those of the schedule's other layers), sane ranges. A layer without
    a priority goes above every layer before it."""
    taken = set(taken or ())
    member_ids = [uid for layer in layers for uid in layer.members]
    await require_existing(session, model=User, ids=member_ids)
    users = await queries.users_by_ids(session, ids=member_ids)
    built = []
    for number, data in enumerate(layers, start=1):
        label = f"layer {data.name or number}"
        priority = data.priority if data.priority is not None else max(taken, default=-1) + 1
        if priority in taken:
            raise Unprocessable(f"{label}: another layer of this schedule already has priority {priority}")
        _check_layer(data, timezone, label)
        taken.add(priority)
        built.append(
            ScheduleLayer(
                id=uuid.uuid4(),
                name=data.name or f"Layer {priority + 1}",
                priority=priority,
                rotation_type=data.rotation_type,
                shift_length=data.shift_length,
                handoff_time=data.handoff_time,
                start_date=data.start_date,
                end_at=data.end_at,
                members=[
                    LayerMember(position=position, user_id=user_id, user=users[user_id])
                    for position, user_id in enumerate(data.members)
                ],
            )
        )
    return built


async def create_schedule(session: AsyncSession, *, data: NewSchedule) -> Schedule:
    """Create a schedule with its layers; 409 when the name is taken."""
    if await queries.name_taken(session, model=Schedule, name=data.name):
        raise Conflict(f"a schedule named {data.name!r} already exists")
    await require_existing(session, model=Team, ids=[data.team_id])
    schedule = Schedule(
        id=uuid.uuid4(),
        name=data.name,
        description=data.description,
        team_id=data.team_id,
        timezone=data.timezone,
        layers=await _build_layers(session, data.layers, data.timezone),
    )
    session.add(schedule)
    await session.flush()
    return schedule


async def _replace_layers(session: AsyncSession, schedule: Schedule, layers: list[ScheduleLayer]) -> None:
    # Delete the old rows before inserting the new ones: the unit of work would
    # otherwise insert first and trip the (schedule, priority) unique constraint.
    schedule.layers.clear()
    await session.flush()
    schedule.layers.extend(layers)


async def update_schedule(session: AsyncSession, *, schedule_id: uuid.UUID, data: ScheduleChanges) -> Schedule:
    """Change a schedule; layers given replace every layer."""
    schedule = await get_schedule(session, schedule_id=schedule_id)
    if data.name is not None:
        if await queries.name_taken(session, model=Schedule, name=data.name, except_id=schedule_id):
            raise Conflict(f"a schedule named {data.name!r} already exists")
        schedule.name = data.name
    if data.description is not None:
        schedule.description = data.description
    if data.team_id is not KEEP:
        await require_existing(session, model=Team, ids=[data.team_id])
        schedule.team_id = data.team_id
    if data.timezone is not None:
        schedule.timezone = data.timezone
    if data.layers is not None:
        await _replace_layers(session, schedule, await _build_layers(session, data.layers, schedule.timezone))
    await session.flush()
    return schedule


async def delete_schedule(session: AsyncSession, *, schedule_id: uuid.UUID) -> None:
    """Remove a schedule; 409 while an escalation policy targets it."""
    schedule = await get_schedule(session, schedule_id=schedule_id)
    policies = await queries.policies_targeting_schedule(session, schedule_id=schedule_id)
    if policies:
        raise Conflict(
            f"schedule {schedule_id} is a target of escalation policies: {', '.join(policies)}; remove it there first",
            policies=policies,
        )
    await session.delete(schedule)
    await session.flush()


async def add_layer(session: AsyncSession, *, schedule_id: uuid.UUID, data: NewLayer) -> ScheduleLayer:
    """Add a layer to a schedule."""
    schedule = await get_schedule(session, schedule_id=schedule_id)
    taken = {layer.priority for layer in schedule.layers}
    [layer] = await _build_layers(session, [data], schedule.timezone, taken=taken)
    schedule.layers.append(layer)
    await session.flush()
    return layer


def _find_layer(schedule: Schedule, layer_id: uuid.UUID) -> ScheduleLayer:
    layer = next((layer for layer in schedule.layers if layer.id == layer_id), None)
    if layer is None:
        raise NotFound(f"layer {layer_id} not found in schedule {schedule.id}")
    return layer


async def replace_layer(
    session: AsyncSession, *, schedule_id: uuid.UUID, layer_id: uuid.UUID, data: NewLayer
) -> ScheduleLayer:
    """Replace a layer's content; it keeps its id, and its name and priority unless given."""
    schedule = await get_schedule(session, schedule_id=schedule_id)
    old = _find_layer(schedule, layer_id)
    taken = {layer.priority for layer in schedule.layers if layer.id != layer_id}
    keep_priority = data.priority if data.priority is not None else old.priority
    [layer] = await _build_layers(session, [replace(data, priority=keep_priority)], schedule.timezone, taken=taken)
    # Same id, new content: the layer keeps its identity for the UI.
    old_name = old.name
    old.members.clear()
    await session.flush()
    for field in ("name", "priority", "rotation_type", "shift_length", "handoff_time", "start_date", "end_at"):
        setattr(old, field, getattr(layer, field))
    if data.name is None:
        old.name = old_name
    old.members.extend(LayerMember(position=m.position, user_id=m.user_id, user=m.user) for m in layer.members)
    await session.flush()
    return old


async def delete_layer(session: AsyncSession, *, schedule_id: uuid.UUID, layer_id: uuid.UUID) -> None:
    """Remove a layer from a schedule."""
    schedule = await get_schedule(session, schedule_id=schedule_id)
    schedule.layers.remove(_find_layer(schedule, layer_id))
    await session.flush()
