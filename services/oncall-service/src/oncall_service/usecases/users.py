"""Users: create, change, remove; their contact methods."""

import uuid
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from oncall_service.db import queries
from oncall_service.usecases import accounts
from oncall_service.usecases.commands import NewContactMethod, NewUser, UserChanges
from platform_common.errors import Conflict, NotFound
from platform_db.models import ContactMethod, User


def _methods(methods: list[NewContactMethod]) -> list[ContactMethod]:
    unique = dict.fromkeys((m.type, m.address) for m in methods)
    return [ContactMethod(type=type_, address=address) for type_, address in unique]


async def get_user(session: AsyncSession, *, user_id: uuid.UUID) -> User:
    """A user by id; 404 when there is none."""
    user = await queries.by_id(session, model=User, id=user_id)
    if user is None:
        raise NotFound(f"user {user_id} not found")
    return user


async def create_user(session: AsyncSession, *, data: NewUser) -> User:
    """Create a user; 409 when the email is taken."""
    if await queries.email_taken(session, email=data.email):
        raise Conflict(f"a user with email {data.email} already exists")
    user = User(
        id=uuid.uuid4(),
        name=data.name,
        email=data.email,
        timezone=data.timezone,
        muted_channels=data.muted_channels,
        muted_severities=data.muted_severities,
        contact_methods=_methods(data.contact_methods),
        role=data.role,
        password_hash=await accounts.hash_password(data.password) if data.password else None,
    )
    session.add(user)
    await session.flush()
    return user


async def update_user(session: AsyncSession, *, user_id: uuid.UUID, data: UserChanges, now: datetime) -> User:
    """Change a user; contact methods given replace every method. Disabling
    revokes every session and API token of theirs, so enabling them again
    brings none of them back."""
    user = await get_user(session, user_id=user_id)
    if data.email is not None and await queries.email_taken(session, email=data.email, except_id=user_id):
        raise Conflict(f"a user with email {data.email} already exists")
    await accounts.refuse_losing_last_admin(session, user=user, role=data.role, disabled=data.disabled)
    if data.disabled:
        await accounts.end_every_credential(session, user_id=user_id, now=now)
    for field in ("name", "email", "timezone", "muted_channels", "muted_severities", "role", "disabled"):
        value = getattr(data, field)
        if value is not None:
            setattr(user, field, value)
    if data.contact_methods is not None:
        # Methods kept are kept as they are: replacing them with new rows would
        # insert before the old ones are deleted, against the unique constraint (409).
        existing = {(m.type, m.address): m for m in user.contact_methods}
        user.contact_methods = [existing.get((m.type, m.address), m) for m in _methods(data.contact_methods)]
    await session.flush()
    return user


async def delete_user(session: AsyncSession, *, user_id: uuid.UUID) -> None:
    """Remove a user; 409 while a rotation or escalation level names them."""
    user = await get_user(session, user_id=user_id)
    await accounts.refuse_losing_last_admin(session, user=user, role=None, disabled=True)
    used_in = await queries.user_references(session, user_id=user_id)
    if used_in:
        # Removing them silently would leave a rotation turn or a level paging nobody.
        raise Conflict(f"user {user_id} is still on {', '.join(used_in)}; remove them there first", used_in=used_in)
    await session.delete(user)
    await session.flush()


async def add_contact_method(session: AsyncSession, *, user_id: uuid.UUID, data: NewContactMethod) -> ContactMethod:
    """Add a contact method; 409 when the user has it already."""
    user = await get_user(session, user_id=user_id)
    if any(m.type == data.type and m.address == data.address for m in user.contact_methods):
        raise Conflict(f"user {user_id} already has this {data.type} contact method")
    method = ContactMethod(id=uuid.uuid4(), type=data.type, address=data.address)
    user.contact_methods.append(method)
    await session.flush()
    return method


async def remove_contact_method(session: AsyncSession, *, user_id: uuid.UUID, method_id: uuid.UUID) -> None:
    """Remove one of a user's contact methods."""
    user = await get_user(session, user_id=user_id)
    method = next((m for m in user.contact_methods if m.id == method_id), None)
    if method is None:
        raise NotFound(f"contact method {method_id} not found for user {user_id}")
    user.contact_methods.remove(method)
    await session.flush()
