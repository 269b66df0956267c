"""Users, their contact methods and their mutes."""

import re
import uuid
from typing import Annotated, Self

from pydantic import (
    AfterValidator,
    EmailStr,
    Field,
    HttpUrl,
    SecretStr,
    SerializerFunctionWrapHandler,
    TypeAdapter,
    ValidationError,
    field_serializer,
    field_validator,
    model_validator,
)

from oncall_service.config import MIN_PASSWORD_LENGTH
from oncall_service.schemas.common import Input, Name, Output, Stamped, TimezoneName
from platform_common.auth import address_shown
from platform_common.roles import Role
from platform_common.validation import Text
from platform_db.enums import ContactType, Severity

_E164 = re.compile(r"^\+[1-9]\d{6,14}$")
_EMAIL = TypeAdapter(EmailStr)
_URL = TypeAdapter(HttpUrl)


def _unique(values: list[str]) -> list[str]:
    return list(dict.fromkeys(values))


def _password_length(value: SecretStr) -> SecretStr:
    # Our own words: pydantic's length rule on a SecretStr speaks of "items".
    length = len(value.get_secret_value())
    if length < MIN_PASSWORD_LENGTH:
        raise ValueError(f"a password must be at least {MIN_PASSWORD_LENGTH} characters long")
    if length > 1024:
        raise ValueError("a password must be at most 1024 characters long")
    return value


Password = Annotated[SecretStr, AfterValidator(_password_length)]


class ContactMethodIn(Input):
    type: ContactType
    address: Text(2048, min_length=1)

    @model_validator(mode="after")
    def _address_fits_type(self) -> Self:
        address = self.address.strip()
        try:
            if self.type == "email":
                address = _EMAIL.validate_python(address).lower()
            elif self.type in ("slack", "webhook"):
                address = str(_URL.validate_python(address))
            else:
                # Phone numbers are kept as data (no SMS/voice channel yet), in E.164.
                address = re.sub(r"[\s().-]", "", address)
                if not _E164.match(address):
                    raise ValueError(f"{self.type} address must be an E.164 number such as +14155550100")
        except ValidationError as exc:
            raise ValueError(f"invalid {self.type} address: {exc.errors()[0]['msg']}") from None
        self.address = address
        return self


class ContactMethodRead(Output):
    id: uuid.UUID
    type: str
    address: str


def shown_contact_methods(owner_id: uuid.UUID, methods: list[dict]) -> list[dict]:
    """A user's contact methods as the current caller may see them: to anyone
    but admins, the platform and the user themself, a secret address shows
    only its scheme and host."""
    return [{**m, "address": address_shown(m["type"], m["address"], owner_id)} for m in methods]


class UserCreate(Input):
    name: Name
    email: EmailStr
    timezone: TimezoneName = "UTC"
    contact_methods: list[ContactMethodIn] = Field(default_factory=list, max_length=50)
    muted_channels: list[ContactType] = Field(default_factory=list)
    muted_severities: list[Severity] = Field(default_factory=list)
    role: Role = Role.RESPONDER
    # Optional: without one the user cannot log in until an admin sets one.
    password: Password | None = None

    @field_validator("email")
    @classmethod
    def _lower(cls, value: str) -> str:
        return value.lower()

    @field_validator("muted_channels", "muted_severities")
    @classmethod
    def _dedupe(cls, value: list[str]) -> list[str]:
        return _unique(value)


class UserUpdate(Input):
    name: Name | None = None
    email: EmailStr | None = None
    timezone: TimezoneName | None = None
    # When given, replaces the whole list.
    contact_methods: list[ContactMethodIn] | None = Field(default=None, max_length=50)
    muted_channels: list[ContactType] | None = None
    muted_severities: list[Severity] | None = None
    # Admins only.
    role: Role | None = None
    disabled: bool | None = None

    @field_validator("email")
    @classmethod
    def _lower(cls, value: str | None) -> str | None:
        return value.lower() if value else value

    @field_validator("muted_channels", "muted_severities")
    @classmethod
    def _dedupe(cls, value: list[str] | None) -> list[str] | None:
        return _unique(value) if value is not None else None


class UserRead(Stamped):
    id: uuid.UUID
    name: str
    email: str
    timezone: str
    contact_methods: list[ContactMethodRead]
    muted_channels: list[str]
    muted_severities: list[str]
    role: Role
    disabled: bool

    @field_serializer("contact_methods", mode="wrap")
    # No return annotation on purpose: the documented shape stays the field's own
    # (list[ContactMethodRead]); the addresses are only shortened, never reshaped.
    def _secrets_hidden(self, methods: list[ContactMethodRead], handler: SerializerFunctionWrapHandler):
        return shown_contact_methods(self.id, handler(methods))


class PasswordSet(Input):
    """An admin sets a user's password."""

    password: Password
