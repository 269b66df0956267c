"""/api/v1/auth: log in and out, the signed-in user, their password and API tokens."""

import time
import uuid
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import TypeVar

from fastapi import APIRouter, Depends, Request, Response, status
from limits import parse
from limits.aio.storage import MemoryStorage
from limits.aio.strategies import MovingWindowRateLimiter
from sqlalchemy.ext.asyncio import AsyncSession

from oncall_service.api.deps import ClockDep, SessionDep, SettingsDep
from oncall_service.db import credentials
from oncall_service.schemas.auth import (
    LoginIn,
    LoginOut,
    Me,
    PasswordChange,
    TokenCreate,
    TokenCreated,
    TokenPage,
    TokenRead,
)
from oncall_service.usecases import accounts
from oncall_service.usecases.accounts import Refused
from oncall_service.usecases.rows import get_or_404
from platform_common.auth import OPEN, SESSION_COOKIE, Authenticator, SignedIn
from platform_common.errors import TooManyRequests, error_responses
from platform_db.models import User

router = APIRouter(prefix="/api/v1/auth", tags=["auth"])

T = TypeVar("T")


class ClientThrottle:
    """Failed logins per client address, whatever account they try: in this
    process (`limits`' moving window). The per-account lock, on the user's
    row, is what holds across replicas."""

    def __init__(self, rule: str) -> None:
        self.rule = parse(rule)
        self.limiter = MovingWindowRateLimiter(MemoryStorage())

    async def check(self, client: str) -> None:
        """429 while this client has used up its failures."""
        if not await self.limiter.test(self.rule, client):
            stats = await self.limiter.get_window_stats(self.rule, client)
            wait = max(1.0, stats.reset_time - time.time())
            raise TooManyRequests(f"Too many failed logins from here; try again in {round(wait)} s", retry_after=wait)

    async def failed(self, client: str) -> None:
        """Count one failed login of this client."""
        await self.limiter.hit(self.rule, client)

    async def attempt(self, request: Request, session: AsyncSession, check: Callable[[], Awaitable[T | Refused]]) -> T:
        """One password check by this client (a login, a password change), in its
        own transaction: 429 while the client has used up its failures; a refusal
        is committed first (so the account's count of failures is kept), then
        counted against the client and raised."""
        client = _client(request)
        await self.check(client)
        async with session.begin():
            outcome = await check()
        if isinstance(outcome, Refused):
            await self.failed(client)
            raise outcome.error
        return outcome


def _throttle(request: Request) -> ClientThrottle:
    return request.app.state.login_throttle


def _client(request: Request) -> str:
    # uvicorn puts the front door's X-Forwarded-For here for FORWARDED_ALLOW_IPS.
    return request.client.host if request.client else "unknown"


@router.post(
    "/login",
    summary="Log in with email and password; sets the session cookie",
    responses=error_responses(401, 403, 429, s403="the account is disabled"),
    dependencies=[Depends(OPEN)],
)
async def log_in(
    body: LoginIn,
    request: Request,
    response: Response,
    session: SessionDep,
    clock: ClockDep,
    settings: SettingsDep,
    throttle: ClientThrottle = Depends(_throttle),  # noqa: B008 - FastAPI's way
) -> LoginOut:
    login = await throttle.attempt(
        request,
        session,
        lambda: accounts.log_in(
            session,
            email=body.email,
            password=body.password.get_secret_value(),
            now=clock.now(),
            ttl=timedelta(hours=settings.session_ttl_hours),
        ),
    )
    response.set_cookie(
        SESSION_COOKIE,
        login.secret,
        max_age=int(settings.session_ttl_hours * 3600),
        path="/",
        httponly=True,
        samesite="strict",
        # Behind TLS (the front door says so in X-Forwarded-Proto) the cookie never travels in clear.
        secure=request.url.scheme == "https",
    )
    return LoginOut(user=Me.model_validate(login.user), expires_at=login.expires_at)


@router.post("/logout", status_code=status.HTTP_204_NO_CONTENT, summary="End this session (or revoke this token)")
async def log_out(
    principal: SignedIn, request: Request, response: Response, session: SessionDep, clock: ClockDep
) -> None:
    if principal.credential_id is not None:
        async with session.begin():
            await accounts.end_credential(session, credential_id=principal.credential_id, now=clock.now())
    _auth(request).forget()
    response.delete_cookie(SESSION_COOKIE, path="/", httponly=True, samesite="strict")


@router.get("/me", summary="The signed-in user and their role")
async def me(principal: SignedIn, session: SessionDep) -> Me:
    return Me.model_validate(await get_or_404(session, model=User, id=_user_id(principal)))


@router.put(
    "/password",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Change your own password",
    description=(
        "A wrong current password counts as a failed login: it locks the account as failed logins do"
        " (429 while locked) and uses up the client's failed logins (429)."
    ),
    responses=error_responses(403, 429, s403="the current password is wrong (or not signed in as a user)"),
)
async def change_password(
    body: PasswordChange,
    principal: SignedIn,
    request: Request,
    session: SessionDep,
    clock: ClockDep,
    throttle: ClientThrottle = Depends(_throttle),  # noqa: B008 - FastAPI's way
) -> None:
    await throttle.attempt(
        request,
        session,
        lambda: accounts.change_password(
            session,
            user_id=_user_id(principal),
            current=body.current_password.get_secret_value(),
            new=body.new_password.get_secret_value(),
            keep_session=principal.credential_id if principal.via == "session" else None,
            now=clock.now(),
        ),
    )
    # The other sessions end here at once (as with an admin's reset), elsewhere within the auth cache.
    _auth(request).forget()


@router.get("/tokens", summary="Your API tokens (their secrets are never shown again)")
async def list_tokens(principal: SignedIn, session: SessionDep) -> TokenPage:
    tokens = await credentials.tokens_of(session, user_id=_user_id(principal))
    return TokenPage(items=[TokenRead.model_validate(t) for t in tokens], total=len(tokens))


@router.post("/tokens", status_code=status.HTTP_201_CREATED, summary="Make an API token (its secret is shown once)")
async def create_token(body: TokenCreate, principal: SignedIn, session: SessionDep, clock: ClockDep) -> TokenCreated:
    async with session.begin():
        token, secret = await accounts.create_token(
            session, user_id=_user_id(principal), name=body.name, expires_at=body.expires_at, now=clock.now()
        )
    return TokenCreated(**TokenRead.model_validate(token).model_dump(), token=secret)


@router.delete("/tokens/{token_id}", status_code=status.HTTP_204_NO_CONTENT, summary="Revoke one of your API tokens")
async def revoke_token(
    token_id: uuid.UUID, principal: SignedIn, request: Request, session: SessionDep, clock: ClockDep
) -> None:
    async with session.begin():
        await accounts.revoke_token(session, user_id=_user_id(principal), token_id=token_id, now=clock.now())
    _auth(request).forget()


def _auth(request: Request) -> Authenticator:
    return request.app.state.auth


def _user_id(principal: SignedIn) -> uuid.UUID:
    # SIGNED_IN admits users only (not the platform's credential), so there is one.
    assert principal.user_id is not None
    return principal.user_id
