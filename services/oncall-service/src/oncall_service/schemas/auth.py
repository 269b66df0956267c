"""Logins, the signed-in user, API tokens."""

import uuid
from datetime import datetime

from pydantic import BaseModel, EmailStr, Field, SecretStr

from oncall_service.schemas.common import Input, Name, Output, UtcDatetime
from oncall_service.schemas.users import Password
from platform_common.roles import Role


class LoginIn(Input):
    email: EmailStr
    # Not held to the length rule: a short wrong password is just wrong (401), not malformed.
    password: SecretStr = Field(min_length=1, max_length=1024)


class Me(Output):
    id: uuid.UUID
    name: str
    email: str
    role: Role
    timezone: str


class LoginOut(BaseModel):
    user: Me
    expires_at: datetime


class PasswordChange(Input):
    current_password: SecretStr = Field(min_length=1, max_length=1024)
    new_password: Password


class TokenCreate(Input):
    name: Name
    # None: the token lasts until revoked.
    expires_at: UtcDatetime | None = None


class TokenRead(Output):
    id: uuid.UUID
    name: str
    created_at: datetime
    expires_at: datetime | None
    last_used_at: datetime | None


class TokenCreated(TokenRead):
    # The secret, shown this once: only its hash is stored.
    token: str


class TokenPage(BaseModel):
    items: list[TokenRead]
    total: int
