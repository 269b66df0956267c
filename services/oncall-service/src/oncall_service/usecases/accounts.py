"""Accounts: passwords, logins, sessions and API tokens of the platform's users.

oncall-service owns users, so it owns their credentials; every other service
checks a credential through authenticate_credential() (platform_common.auth).
Passwords are Argon2id with RFC 9106's low-memory profile (3 passes over
64 MiB, 4 lanes, 16-byte salt, 32-byte hash); session and token secrets are
random and stored as SHA-256 (platform_common.auth.secret_hash).
"""

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from argon2 import PasswordHasher, profiles
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.concurrency import run_in_threadpool

from oncall_service.db import credentials, queries
from oncall_service.domain.lockout import lock_for
from oncall_service.usecases.rows import get_or_404
from platform_common.auth import TOKEN_PREFIX, new_secret, secret_hash
from platform_common.errors import (
    Conflict,
    DomainError,
    Forbidden,
    NotFound,
    TooManyRequests,
    Unauthorized,
    Unprocessable,
)
from platform_common.roles import Role
from platform_db.models import Credential, User

# Named, not argon2-cffi's defaults, so an upgrade of the library cannot change them unseen.
_HASHER = PasswordHasher.from_parameters(profiles.RFC_9106_LOW_MEMORY)
# Checked when there is no password to check (an unknown email, an account
# without a password), so every login costs the same one Argon2 check.
_DUMMY_HASH = _HASHER.hash("an unknown account's stand-in password")
WRONG_LOGIN = "Email or password is wrong"


async def hash_password(password: str) -> str:
    """Argon2id of `password`, off the event loop (it takes tens of milliseconds on purpose)."""
    return await run_in_threadpool(_HASHER.hash, password)


async def _password_matches(user: User | None, password: str) -> bool:
    """Whether `password` is the user's: one Argon2 check, whoever the email
    named, so how long a login takes says nothing about the account."""
    encoded = user.password_hash if user is not None and user.password_hash is not None else None
    try:
        matches = await run_in_threadpool(_HASHER.verify, encoded or _DUMMY_HASH, password)
    except (VerificationError, InvalidHashError):
        return False
    return matches and encoded is not None


@dataclass(frozen=True)
class Login:
    """A successful login: who, and the session secret for the cookie (shown once)."""

    user: User
    secret: str
    expires_at: datetime


@dataclass(frozen=True)
class Refused:
    """A failed login: the error to answer, raised by the caller after it
    commits, so the failure's count is kept."""

    error: DomainError


async def log_in(session: AsyncSession, *, email: str, password: str, now: datetime, ttl: timedelta) -> Login | Refused:
    """Check a password and open a session. Failed logins in a row lock the
    account for a growing while (domain.lockout); the count lives on the
    user's row, locked for the update, so it holds across replicas and
    concurrent tries."""
    user = await credentials.lock_user(session, email=email)
    if user is None:
        # A known email's row lock takes a transaction id, and its failure is
        # written, so its commit waits for the log to reach the disk; taking an
        # id here makes an unknown email's commit wait as long.
        await credentials.take_transaction_id(session)
        await _password_matches(None, password)
        return Refused(Unauthorized(WRONG_LOGIN))
    if refusal := await _check_password(session, user, password, now=now, wrong=Unauthorized(WRONG_LOGIN)):
        return refusal
    if user.disabled:
        return Refused(Forbidden("This account is disabled; ask an admin"))
    if user.password_hash is None or _HASHER.check_needs_rehash(user.password_hash):
        user.password_hash = await hash_password(password)
    secret = new_secret()
    expires_at = now + ttl
    session.add(
        Credential(user_id=user.id, kind="session", name="web", secret_hash=secret_hash(secret), expires_at=expires_at)
    )
    await session.flush()
    return Login(user=user, secret=secret, expires_at=expires_at)


async def _check_password(
    session: AsyncSession, user: User, password: str, *, now: datetime, wrong: DomainError
) -> Refused | None:
    """The one password check of a user, for a login and for a change of their
    own password alike (the row locked by the caller): 429 while the account is
    locked; a wrong password counts as a failed login (`wrong` is answered) and
    may lock it (domain.lockout); the right one starts the count over."""
    if user.locked_until is not None and user.locked_until > now:
        wait = (user.locked_until - now).total_seconds()
        return Refused(
            TooManyRequests(
                f"Too many failed logins for this account; try again in {max(1, round(wait))} s", retry_after=wait
            )
        )
    if not await _password_matches(user, password):
        user.failed_logins += 1
        lock = lock_for(user.failed_logins)
        user.locked_until = now + lock if lock else None
        await session.flush()
        return Refused(wrong)
    user.failed_logins = 0
    user.locked_until = None
    return None


async def end_credential(session: AsyncSession, *, credential_id: uuid.UUID, now: datetime) -> None:
    """Log out (a session) or revoke (a token): at once here, within the auth cache elsewhere."""
    await credentials.revoke_credential(session, credential_id=credential_id, now=now)


async def end_every_credential(session: AsyncSession, *, user_id: uuid.UUID, now: datetime) -> None:
    """Revoke every session and API token of the user, for good: what an admin
    does when the account may be in someone else's hands (disabling it,
    resetting its password). Enabling the user again revives none of them."""
    await credentials.revoke_users_credentials(session, user_id=user_id, now=now)


async def change_password(
    session: AsyncSession, *, user_id: uuid.UUID, current: str, new: str, keep_session: uuid.UUID | None, now: datetime
) -> Refused | None:
    """A user's own change: the current password first, checked as a login
    checks it (the same lock and count), so a borrowed session cannot guess it
    without limit. Their other sessions end. A refusal is returned, to be raised
    by the caller after it commits, so the failure's count is kept."""
    user = await credentials.lock_user(session, user_id=user_id)
    if user is None:
        raise NotFound(f"user {user_id} not found")
    if refusal := await _check_password(
        session, user, current, now=now, wrong=Forbidden("The current password is wrong")
    ):
        return refusal
    user.password_hash = await hash_password(new)
    await credentials.revoke_users_credentials(session, user_id=user_id, now=now, sessions_only=True, keep=keep_session)
    return None


async def set_password(session: AsyncSession, *, user_id: uuid.UUID, password: str, now: datetime) -> None:
    """An admin's reset: every session and API token of the user ends and a lock is lifted."""
    user = await get_or_404(session, model=User, id=user_id)
    user.password_hash = await hash_password(password)
    user.failed_logins = 0
    user.locked_until = None
    await end_every_credential(session, user_id=user_id, now=now)


async def create_token(
    session: AsyncSession, *, user_id: uuid.UUID, name: str, expires_at: datetime | None, now: datetime
) -> tuple[Credential, str]:
    """A new personal API token and its secret (shown once)."""
    if expires_at is not None and expires_at <= now:
        raise Unprocessable("expires_at must be in the future")
    secret = new_secret(TOKEN_PREFIX)
    token = Credential(
        id=uuid.uuid4(),
        user_id=user_id,
        kind="token",
        name=name,
        secret_hash=secret_hash(secret),
        created_at=now,
        expires_at=expires_at,
    )
    session.add(token)
    await session.flush()
    return token, secret


async def revoke_token(session: AsyncSession, *, user_id: uuid.UUID, token_id: uuid.UUID, now: datetime) -> None:
    """Revoke one of the user's own tokens; 404 for anyone else's."""
    token = await queries.by_id(session, model=Credential, id=token_id)
    if token is None or token.user_id != user_id or token.kind != "token" or token.revoked_at is not None:
        raise NotFound(f"API token {token_id} not found")
    token.revoked_at = now
    await session.flush()


async def refuse_losing_last_admin(
    session: AsyncSession, *, user: User, role: str | None, disabled: bool | None
) -> None:
    """A change that would leave no active admin is refused: nobody could set the platform up any more.

    The active admins' rows are locked (in one order, so two such changes
    never deadlock) and read as committed: of two admins demoting each other
    at once, the second waits for the first, then finds itself the last
    active admin (PostgreSQL re-reads a row changed while it waited)."""
    demoted = role is not None and role != Role.ADMIN
    if not (demoted or disabled):
        return
    active = await credentials.lock_active_admins(session)
    if user.id in active and not active - {user.id}:
        raise Conflict("This is the last active admin; make another admin first")


async def ensure_admin(session: AsyncSession, *, email: str, password: str) -> bool:
    """The first admin from ADMIN_EMAIL / ADMIN_PASSWORD, when no user has that
    email yet; True when created. An existing user is left alone, so a
    password changed since is kept."""
    email = email.lower()
    if await queries.email_taken(session, email=email):
        return False
    session.add(
        User(
            id=uuid.uuid4(),
            name="Admin",
            email=email,
            role=Role.ADMIN,
            password_hash=await hash_password(password),
        )
    )
    await session.flush()
    return True
