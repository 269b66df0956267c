"""Validated request bodies into the use cases' inputs (services/commands.py)."""

from typing import Any

from pydantic import BaseModel

from oncall_service.api.schemas.policies import LevelIn, PolicyCreate, PolicyUpdate
from oncall_service.api.schemas.schedules import LayerIn, OverrideCreate, ScheduleCreate, ScheduleUpdate
from oncall_service.api.schemas.teams import ServiceCreate, ServiceUpdate, TeamCreate, TeamMemberIn, TeamUpdate
from oncall_service.api.schemas.users import ContactMethodIn, UserCreate, UserUpdate
from oncall_service.usecases import commands
from oncall_service.usecases.commands import KEEP


def _given(data: BaseModel, name: str) -> Any:
    # An explicit null in the body means "set to null"; a field left out, "keep it".
    return getattr(data, name) if name in data.model_fields_set else KEEP


def contact_method(data: ContactMethodIn) -> commands.NewContactMethod:
    """A contact method from the request."""
    return commands.NewContactMethod(type=data.type, address=data.address)


def _contact_methods(methods: list[ContactMethodIn] | None) -> list[commands.NewContactMethod] | None:
    return None if methods is None else [contact_method(m) for m in methods]


def new_user(data: UserCreate) -> commands.NewUser:
    """A new user from the request."""
    return commands.NewUser(
        name=data.name,
        email=data.email,
        timezone=data.timezone,
        contact_methods=[contact_method(m) for m in data.contact_methods],
        muted_channels=list(data.muted_channels),
        muted_severities=list(data.muted_severities),
        role=data.role,
        password=data.password.get_secret_value() if data.password else None,
    )


def user_changes(data: UserUpdate) -> commands.UserChanges:
    """A user's changes from a PATCH body."""
    return commands.UserChanges(
        name=data.name,
        email=data.email,
        timezone=data.timezone,
        contact_methods=_contact_methods(data.contact_methods),
        muted_channels=data.muted_channels,
        muted_severities=data.muted_severities,
        role=data.role,
        disabled=data.disabled,
    )


def _members(members: list[TeamMemberIn] | None) -> list[commands.NewMember] | None:
    return None if members is None else [commands.NewMember(user_id=m.user_id, role=m.role) for m in members]


def new_team(data: TeamCreate) -> commands.NewTeam:
    """A new team from the request."""
    return commands.NewTeam(
        name=data.name,
        description=data.description,
        escalation_policy_id=data.escalation_policy_id,
        members=_members(data.members) or [],
    )


def team_changes(data: TeamUpdate) -> commands.TeamChanges:
    """A team's changes from a PATCH body."""
    return commands.TeamChanges(
        name=data.name,
        description=data.description,
        escalation_policy_id=_given(data, "escalation_policy_id"),
        members=_members(data.members),
    )


def new_service(data: ServiceCreate) -> commands.NewService:
    """A new service from the request."""
    return commands.NewService(
        name=data.name,
        description=data.description,
        team_id=data.team_id,
        escalation_policy_id=data.escalation_policy_id,
    )


def service_changes(data: ServiceUpdate) -> commands.ServiceChanges:
    """A service's changes from a PATCH body."""
    return commands.ServiceChanges(
        name=data.name,
        description=data.description,
        team_id=_given(data, "team_id"),
        escalation_policy_id=_given(data, "escalation_policy_id"),
    )


def _levels(levels: list[LevelIn] | None) -> list[commands.NewLevel] | None:
    if levels is None:
        return None
    return [
        commands.NewLevel(
            delay_minutes=level.delay_minutes,
            targets=[commands.NewTarget(type=t.type, id=t.id) for t in level.targets],
        )
        for level in levels
    ]


def new_policy(data: PolicyCreate) -> commands.NewPolicy:
    """A new escalation policy from the request."""
    return commands.NewPolicy(
        name=data.name,
        description=data.description,
        team_id=data.team_id,
        repeat_count=data.repeat_count,
        levels=_levels(data.levels) or [],
    )


def policy_changes(data: PolicyUpdate) -> commands.PolicyChanges:
    """A policy's changes from a PATCH body."""
    return commands.PolicyChanges(
        name=data.name,
        description=data.description,
        team_id=_given(data, "team_id"),
        repeat_count=data.repeat_count,
        levels=_levels(data.levels),
    )


def new_layer(data: LayerIn) -> commands.NewLayer:
    """A rotation layer from the request."""
    return commands.NewLayer(
        name=data.name,
        priority=data.priority,
        rotation_type=data.rotation_type,
        shift_length=data.shift_length,
        handoff_time=data.handoff_time,
        start_date=data.start_date,
        end_at=data.end_at,
        members=list(data.members),
    )


def new_schedule(data: ScheduleCreate) -> commands.NewSchedule:
    """A new schedule from the request."""
    return commands.NewSchedule(
        name=data.name,
        description=data.description,
        team_id=data.team_id,
        timezone=data.timezone,
        layers=[new_layer(layer) for layer in data.layers],
    )


def schedule_changes(data: ScheduleUpdate) -> commands.ScheduleChanges:
    """A schedule's changes from a PATCH body."""
    return commands.ScheduleChanges(
        name=data.name,
        description=data.description,
        team_id=_given(data, "team_id"),
        timezone=data.timezone,
        layers=None if data.layers is None else [new_layer(layer) for layer in data.layers],
    )


def new_override(data: OverrideCreate) -> commands.NewOverride:
    """A new override from the request."""
    return commands.NewOverride(user_id=data.user_id, start=data.start, end=data.end)
