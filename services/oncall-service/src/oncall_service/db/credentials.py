"""Reads, locks and revocations of users' logins and credentials (sessions and
API tokens). Keyword-only; they never commit."""

import uuid
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from platform_common.roles import Role
from platform_db.models import Credential, User


async def lock_user(
    session: AsyncSession, *, email: str | None = None, user_id: uuid.UUID | None = None
) -> User | None:
    """The user of this email (or id), row-locked until commit: their failed-login
    count is read and written under it, so it holds across replicas and concurrent tries."""
    where = User.email == email.lower() if email is not None else User.id == user_id
    return await session.scalar(select(User).where(where).with_for_update())


async def take_transaction_id(session: AsyncSession) -> None:
    """Give the transaction an id, as a row lock or a write does: its commit then
    waits for the log to reach the disk."""
    await session.execute(select(func.pg_current_xact_id()))


async def lock_active_admins(session: AsyncSession) -> set[uuid.UUID]:
    """The ids of the admins not disabled, their rows locked in id order (so two
    such locks never deadlock) and read as committed once the lock is had."""
    rows = await session.scalars(
        select(User.id).where(User.role == Role.ADMIN, User.disabled.is_(False)).order_by(User.id).with_for_update()
    )
    return set(rows)


async def tokens_of(session: AsyncSession, *, user_id: uuid.UUID) -> Sequence[Credential]:
    """A user's API tokens that are not revoked, newest first (expired ones too, marked by expires_at)."""
    rows = await session.scalars(
        select(Credential)
        .where(Credential.user_id == user_id, Credential.kind == "token", Credential.revoked_at.is_(None))
        .order_by(Credential.created_at.desc(), Credential.id)
    )
    return rows.all()


async def revoke_credential(session: AsyncSession, *, credential_id: uuid.UUID, now: datetime) -> None:
    """Revoke one session or token, unless it is already."""
    await session.execute(
        update(Credential).where(Credential.id == credential_id, Credential.revoked_at.is_(None)).values(revoked_at=now)
    )


async def revoke_users_credentials(
    session: AsyncSession,
    *,
    user_id: uuid.UUID,
    now: datetime,
    sessions_only: bool = False,
    keep: uuid.UUID | None = None,
) -> None:
    """Revoke every credential of a user not yet revoked (only their sessions, and not `keep`, when asked)."""
    statement = update(Credential).where(Credential.user_id == user_id, Credential.revoked_at.is_(None))
    if sessions_only:
        statement = statement.where(Credential.kind == "session")
    if keep is not None:
        statement = statement.where(Credential.id != keep)
    await session.execute(statement.values(revoked_at=now))
