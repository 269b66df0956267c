"""Escalation policies: ordered levels of targets with a delay before the next level."""

import uuid
from datetime import datetime
from typing import Any

from pydantic import Field, SerializerFunctionWrapHandler, ValidationInfo, field_serializer, model_validator

from oncall_service.schemas.common import Description, Input, Name, Output, Stamped, UserRef
from oncall_service.schemas.users import ContactMethodRead, shown_contact_methods
from platform_db.enums import TargetType


class TargetIn(Input):
    type: TargetType
    id: uuid.UUID


class LevelIn(Input):
    delay_minutes: int = Field(ge=1, le=1440)
    targets: list[TargetIn] = Field(min_length=1, max_length=20)


class PolicyCreate(Input):
    name: Name
    description: Description = ""
    team_id: uuid.UUID | None = None
    repeat_count: int = Field(default=0, ge=0, le=9)
    levels: list[LevelIn] = Field(min_length=1, max_length=20)


class PolicyUpdate(Input):
    name: Name | None = None
    description: Description | None = None
    team_id: uuid.UUID | None = None
    repeat_count: int | None = Field(default=None, ge=0, le=9)
    levels: list[LevelIn] | None = Field(default=None, min_length=1, max_length=20)


class TargetRead(Output):
    type: TargetType
    id: uuid.UUID
    name: str

    @model_validator(mode="before")
    @classmethod
    def _stored(cls, target: Any, info: ValidationInfo) -> Any:
        # A stored target (EscalationTarget) holds the id of its user or schedule, not
        # the name: the caller passes the names in the validation context, as
        # context={"target_names": usecases.policies.target_names(...)}.
        if not hasattr(target, "target_type"):
            return target
        target_id = target.user_id or target.schedule_id
        return {"type": target.target_type, "id": target_id, "name": info.context["target_names"].get(target_id, "")}


class LevelRead(Output):
    position: int
    delay_minutes: int
    targets: list[TargetRead]


class PolicyRead(Stamped):
    id: uuid.UUID
    name: str
    description: str
    repeat_count: int
    team_id: uuid.UUID | None
    levels: list[LevelRead]


class NamedRef(Output):
    id: uuid.UUID
    name: str


class PolicyRef(NamedRef):
    repeat_count: int


class PagedRule(Output):
    """One step of the user's notification rules: after `delay_minutes`, the
    contact method of theirs with this id."""

    urgency: str
    position: int
    delay_minutes: int
    contact_method_id: uuid.UUID


class PagedUser(UserRef):
    """Someone a page goes to, with where and what they take pages on: the caller
    hands these to notification-service, which then needs nobody else to page.
    Their rules say when each contact method is paged (none: all at once)."""

    contact_methods: list[ContactMethodRead]
    muted_channels: list[str]
    muted_severities: list[str]
    notification_rules: list[PagedRule]

    @field_serializer("contact_methods", mode="wrap")
    # No return annotation on purpose: the documented shape stays the field's own
    # (list[ContactMethodRead]); the addresses are only shortened, never reshaped.
    def _secrets_hidden(self, methods: list[ContactMethodRead], handler: SerializerFunctionWrapHandler):
        return shown_contact_methods(self.id, handler(methods))


class ChainLevel(Output):
    level: int
    delay_minutes: int
    targets: list[TargetRead]
    users: list[PagedUser]


class ServiceRef(NamedRef):
    # Incidents of these severities page with the high-urgency rules.
    high_urgency_severities: list[str]


class OnCallRead(Output):
    at: datetime
    service: ServiceRef | None
    team: NamedRef | None
    escalation_policy: PolicyRef | None
    primary: PagedUser | None
    escalation_chain: list[ChainLevel]
    acknowledgement_timeout_minutes: int | None = Field(
        description="the service's acknowledgement timeout (null: off, or asked by team)"
    )


class PagedLevel(Output):
    """ChainLevel with its people by id: OnCallServices.users holds each of them once."""

    level: int
    delay_minutes: int
    targets: list[TargetRead]
    user_ids: list[uuid.UUID]


class ServiceOnCall(Output):
    """What OnCallRead says for one service, its people by id (OnCallServices.users)."""

    service: ServiceRef
    team: NamedRef | None
    escalation_policy: PolicyRef | None
    primary_id: uuid.UUID | None
    escalation_chain: list[PagedLevel]
    acknowledgement_timeout_minutes: int | None = Field(description="the service's acknowledgement timeout (null: off)")


class OnCallServices(Output):
    """Every service's OnCallRead at one moment, a page at a time (the on-call page's one
    request). A person paged for many services comes once, in `users`: the items refer
    to them by id, so the answer grows with the services, not with services x people."""

    at: datetime
    items: list[ServiceOnCall]
    users: dict[uuid.UUID, PagedUser] = Field(description="everyone the items page, by id")
    total: int
    limit: int
    offset: int
