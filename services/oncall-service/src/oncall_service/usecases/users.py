"""Users: create, change, remove; their contact methods."""

import uuid
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from oncall_service.clients.notifications import Notice, NoticeRejected, NoticeUnavailable, NotificationClient
from oncall_service.db import queries
from oncall_service.schemas.users import ContactMethodIn, UserCreate, UserUpdate
from oncall_service.usecases import accounts
from oncall_service.usecases.rows import apply_changes, find, get_or_404
from platform_common.errors import Conflict, DependencyUnavailable, Unprocessable
from platform_common.roles import Role
from platform_db.models import ContactMethod, User


def _methods(methods: list[ContactMethodIn]) -> list[ContactMethod]:
    unique = dict.fromkeys((m.type, m.address) for m in methods)
    return [ContactMethod(type=type_, address=address) for type_, address in unique]


async def create_user(session: AsyncSession, *, user_in: UserCreate) -> User:
    """Create a user; 409 when the email is taken."""
    if await queries.email_taken(session, email=user_in.email):
        raise Conflict(f"a user with email {user_in.email} already exists")
    user = User(
        id=uuid.uuid4(),
        **user_in.model_dump(exclude={"contact_methods", "password"}),
        contact_methods=_methods(user_in.contact_methods),
        password_hash=await accounts.hash_password(user_in.password.get_secret_value()) if user_in.password else None,
    )
    session.add(user)
    await session.flush()
    return user


async def update_user(session: AsyncSession, *, user_id: uuid.UUID, user_in: UserUpdate, now: datetime) -> User:
    """Change a user; contact methods given replace every method. Disabling
    revokes every session and API token of theirs, so enabling them again
    brings none of them back."""
    user = await get_or_404(session, model=User, id=user_id)
    if user_in.email is not None and await queries.email_taken(session, email=user_in.email, except_id=user_id):
        raise Conflict(f"a user with email {user_in.email} already exists")
    await accounts.refuse_losing_last_admin(session, user=user, role=user_in.role, disabled=user_in.disabled)
    if user_in.role == Role.VIEWER and user.role != Role.VIEWER:
        await _refuse_while_on_call(session, user=user, becoming="a viewer")
    if user_in.disabled and not user.disabled:
        await _refuse_while_on_call(session, user=user, becoming="disabled")
    if user_in.disabled:
        await accounts.end_every_credential(session, user_id=user_id, now=now)
    if user_in.contact_methods is not None:
        # Methods kept are kept as they are (their ids too); the new ones are
        # other addresses, so inserting them before deleting the old trips no key.
        existing = {(m.type, m.address): m for m in user.contact_methods}
        user.contact_methods = [existing.get((m.type, m.address), m) for m in _methods(user_in.contact_methods)]
    await apply_changes(session, user, user_in, exclude={"contact_methods"})
    return user


async def delete_user(session: AsyncSession, *, user_id: uuid.UUID) -> None:
    """Remove a user; 409 while a rotation or escalation level names them."""
    user = await get_or_404(session, model=User, id=user_id)
    await accounts.refuse_losing_last_admin(session, user=user, role=None, disabled=True)
    await _refuse_while_on_call(session, user=user, becoming="removed")
    await session.delete(user)
    await session.flush()


async def _refuse_while_on_call(session: AsyncSession, *, user: User, becoming: str) -> None:
    """409 while a rotation, override or escalation level names the user: removing,
    disabling or demoting them to viewer silently would leave a turn or a level paging
    someone who cannot answer (the same rule that refuses them as members)."""
    used_in = await queries.user_references(session, user_id=user.id)
    if used_in:
        raise Conflict(
            f"{user.name} ({user.id}) is still on {', '.join(used_in)} and cannot be {becoming};"
            " remove them there first",
            used_in=used_in,
        )


async def add_contact_method(session: AsyncSession, *, user_id: uuid.UUID, method_in: ContactMethodIn) -> ContactMethod:
    """Add a contact method; 409 when the user has it already."""
    user = await get_or_404(session, model=User, id=user_id)
    if any(m.type == method_in.type and m.address == method_in.address for m in user.contact_methods):
        raise Conflict(f"user {user_id} already has this {method_in.type} contact method")
    method = ContactMethod(id=uuid.uuid4(), type=method_in.type, address=method_in.address)
    user.contact_methods.append(method)
    await session.flush()
    return method


async def remove_contact_method(session: AsyncSession, *, user_id: uuid.UUID, method_id: uuid.UUID) -> None:
    """Remove one of a user's contact methods."""
    user = await get_or_404(session, model=User, id=user_id)
    missing = f"contact method {method_id} not found for user {user_id}"
    user.contact_methods.remove(find(user.contact_methods, missing, id=method_id))
    await session.flush()


async def test_page(session: AsyncSession, *, user_id: uuid.UUID, method_id: uuid.UUID, now: datetime) -> Notice:
    """The test page for one of a user's contact methods (404 for an unknown user or method)."""
    user = await get_or_404(session, model=User, id=user_id)
    method = find(user.contact_methods, f"contact method {method_id} not found for user {user_id}", id=method_id)
    return Notice(
        # Each request is a test of its own: a second click sends a second page.
        idempotency_key=f"test:{method.id}:{now.isoformat()}:{uuid.uuid4()}",
        event="test",
        user_id=str(user.id),
        name=user.name,
        contact_methods=[{"type": method.type, "address": method.address}],
        message=f"Test page for {user.name}: this {method.type} contact method receives pages.",
    )


async def send_test_page(client: NotificationClient, notice: Notice) -> dict:
    """Hand the test page to notification-service; 503 while it cannot take it."""
    try:
        deliveries = await client.notify(notice)
    except NoticeUnavailable as exc:
        raise DependencyUnavailable(str(exc)) from exc
    except NoticeRejected as exc:
        raise Unprocessable(str(exc)) from exc
    statuses = {str(d.get("status")) for d in deliveries}
    return {
        "status": "suppressed" if statuses == {"suppressed"} else "accepted",
        "notification_ids": [str(d.get("id")) for d in deliveries],
    }
