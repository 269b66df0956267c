"""Stored rows as response bodies, where the shapes differ from the tables."""

import uuid

from oncall_service.api.schemas.common import UserRef
from oncall_service.api.schemas.policies import LevelRead, PolicyRead, TargetRead
from oncall_service.api.schemas.schedules import LayerRead, OverrideRead, ScheduleRead
from oncall_service.usecases.policies import target_ref
from platform_db.models import EscalationPolicy, Schedule, ScheduleLayer, ScheduleOverride, User


def user_ref(user: User) -> UserRef:
    """A user as referenced from other resources."""
    return UserRef(id=user.id, name=user.name, email=user.email)


def layer_read(layer: ScheduleLayer) -> LayerRead:
    """A rotation layer with its members."""
    return LayerRead(
        id=layer.id,
        name=layer.name,
        priority=layer.priority,
        rotation_type=layer.rotation_type,
        shift_length=layer.shift_length,
        handoff_time=layer.handoff_time,
        start_date=layer.start_date,
        end_at=layer.end_at,
        members=[user_ref(member.user) for member in layer.members],
    )


def schedule_read(schedule: Schedule) -> ScheduleRead:
    """A schedule with its layers, highest priority first."""
    return ScheduleRead(
        id=schedule.id,
        name=schedule.name,
        description=schedule.description,
        team_id=schedule.team_id,
        timezone=schedule.timezone,
        created_at=schedule.created_at,
        updated_at=schedule.updated_at,
        layers=[layer_read(layer) for layer in sorted(schedule.layers, key=lambda layer: -layer.priority)],
    )


def override_read(override: ScheduleOverride) -> OverrideRead:
    """An override with the user who covers."""
    return OverrideRead(
        id=override.id,
        schedule_id=override.schedule_id,
        user=user_ref(override.user),
        start=override.start_at,
        end=override.end_at,
        created_at=override.created_at,
    )


def policy_read(policy: EscalationPolicy, names: dict[uuid.UUID, str]) -> PolicyRead:
    """A policy with its levels, each target named (`names` from services.policies.target_names())."""
    return PolicyRead(
        id=policy.id,
        name=policy.name,
        description=policy.description,
        repeat_count=policy.repeat_count,
        team_id=policy.team_id,
        created_at=policy.created_at,
        updated_at=policy.updated_at,
        levels=[
            LevelRead(
                position=level.position,
                delay_minutes=level.delay_minutes,
                targets=[TargetRead.model_validate(target_ref(t, names)) for t in level.targets],
            )
            for level in policy.levels
        ],
    )
