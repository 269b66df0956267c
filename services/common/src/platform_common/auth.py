"""Who is calling, and whether they may: one check for every route of every service.

A caller is one of
- a user, by the UI's session cookie or a personal API token (Bearer `ipt_...`),
  both looked up through authenticate_credential() (database/sql/0008_auth/), owned by
  oncall-service, and cached here for AUTH_CACHE_SECONDS (2 s): logging out,
  revoking a token or disabling a user counts everywhere within that;
- the platform itself, by an internal credential (Bearer, one of
  INTERNAL_TOKENS; the first is sent, every one listed is accepted, so it can be
  rotated without downtime).

Every route declares one `Access` rule (a dependency). tests/auth builds its
table from the apps' route lists, so a route without a rule fails there.
Integration keys are not here: the sender endpoints check them themselves
(rule INTEGRATION_KEY says so), since they are the hot path and answer in
their senders' own formats.
"""

import hashlib
import logging
import secrets
import uuid
from collections.abc import Callable
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

from cachetools import TTLCache
from fastapi import Depends, Request
from pydantic import SecretStr
from sqlalchemy import text

from platform_common.db import Database
from platform_common.errors import Forbidden, Unauthorized
from platform_common.roles import Role

log = logging.getLogger(__name__)

SESSION_COOKIE = "session"
TOKEN_PREFIX = "ipt_"  # noqa: S105 - a prefix, not a secret: it tells a token apart in logs  # nosec B105
_RANK = {Role.VIEWER: 0, Role.RESPONDER: 1, Role.ADMIN: 2}
_SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def secret_hash(secret: str) -> str:
    """The stored form of a session or token secret (SHA-256, hex): the secrets
    are 256 random bits, so a fast hash is enough and a lookup is an index hit."""
    return hashlib.sha256(secret.encode()).hexdigest()


def new_secret(prefix: str = "") -> str:
    """A fresh credential secret."""
    return prefix + secrets.token_urlsafe(32)


@dataclass(frozen=True)
class Principal:
    """An authenticated caller."""

    kind: Literal["user", "platform"]
    name: str
    role: Role
    user_id: uuid.UUID | None = None
    email: str | None = None
    credential_id: uuid.UUID | None = None
    via: Literal["session", "token", "internal"] = "internal"

    def may(self, role: Role) -> bool:
        """Whether this caller has `role` or a higher one."""
        return _RANK[self.role] >= _RANK[role]

    @property
    def is_platform(self) -> bool:
        """Whether this is the platform's own call (the internal credential)."""
        return self.kind == "platform"


# The platform's own calls act with every right; what it does is recorded under its own name.
PLATFORM = Principal(kind="platform", name="platform", role=Role.ADMIN)

# The caller of the request being served, set by its Access rule: for answers
# that show a field to some callers only (may_see_secrets_of). Unset outside a request.
_caller: ContextVar[Principal | None] = ContextVar("caller", default=None)


def may_see_secrets_of(user_id: uuid.UUID | None) -> bool:
    """Whether the current caller may read that user's secrets (e.g. the URL of
    their Slack or webhook contact method, which is a credential): admins, the
    platform and the user themself. Outside a request (no caller): yes."""
    caller = _caller.get()
    return caller is None or caller.may(Role.ADMIN) or (user_id is not None and caller.user_id == user_id)


# Contact-method types (and the channels that page through them) whose address
# is a URL carrying its own credential: a Slack incoming webhook, a webhook with its token.
SECRET_URL_KINDS = frozenset({"slack", "webhook"})


def address_shown(kind: str | None, address: str | None, owner_id: uuid.UUID | None) -> str | None:
    """A contact method's address, or a delivery's target, as the current caller
    may see it: whole to those who may see the owner's secrets, else masked_address."""
    return address if may_see_secrets_of(owner_id) else masked_address(kind, address)


def masked_address(kind: str | None, address: str | None) -> str | None:
    """A contact method's address, or a delivery's target, for anyone's eyes
    (others' answers, the timeline, log lines): a Slack or webhook URL as
    masked_url, any other (an email address) as it is."""
    if address is None or kind not in SECRET_URL_KINDS:
        return address
    return masked_url(address)


def masked_url(url: str) -> str:
    """Where a URL that is a credential goes, and nothing of the credential:
    scheme and host (with a port), never user, password, path, query or fragment.
    For anyone's eyes: answers to others, the timeline, log lines."""
    try:
        parts = urlsplit(url)
        host, port = parts.hostname, parts.port
    except ValueError:  # not a URL at all (a bad port, a broken IPv6 literal): nothing of it is shown
        return "…"
    if not parts.scheme or not host:
        return "…"
    host = f"[{host}]" if ":" in host else host
    return f"{parts.scheme}://{host}{f':{port}' if port is not None else ''}/…"


def internal_headers(tokens: SecretStr | None) -> dict[str, str]:
    """The header a call to another service carries: the first of INTERNAL_TOKENS."""
    current = _split(tokens.get_secret_value() if tokens else None)[:1]
    return {"Authorization": f"Bearer {current[0]}"} if current else {}


def _split(tokens: str | None) -> list[str]:
    return [t.strip() for t in (tokens or "").split(",") if t.strip()]


# A cached answer may be None (an unknown credential), so absence needs a marker of its own.
_UNCACHED = object()


class Authenticator:
    """Turns a request's credentials into a Principal (or None). One per app."""

    def __init__(
        self,
        db: Database,
        *,
        internal_tokens: SecretStr | None,
        cache_seconds: float,
        trusted_origins: tuple[str, ...] = (),
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.db = db
        self._internal = [t.encode() for t in _split(internal_tokens.get_secret_value() if internal_tokens else None)]
        self._trusted_origins = frozenset(o.rstrip("/") for o in trusted_origins if o)
        self._now = now
        self._cache: TTLCache[str, Principal | None] = TTLCache(maxsize=10_000, ttl=cache_seconds)

    async def principal(self, request: Request) -> Principal | None:
        """The caller, or None when the request carries no credential at all.
        A credential that is wrong, expired or revoked is a 401 here, not None:
        a caller who sent one should hear that it failed."""
        scheme, _, bearer = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() == "bearer" and bearer:
            if self._is_internal(bearer):
                return PLATFORM
            found = await self._lookup(bearer, "token")
            if found is None:
                raise Unauthorized("The bearer token is unknown, expired or revoked", headers=_CHALLENGE)
            return found
        cookie = request.cookies.get(SESSION_COOKIE)
        if cookie:
            found = await self._lookup(cookie, "session")
            if found is None:
                raise Unauthorized("Your session has ended; log in again", headers=_CHALLENGE)
            if request.method not in _SAFE_METHODS:
                self._check_origin(request)
            return found
        return None

    def _is_internal(self, given: str) -> bool:
        candidate = given.encode()
        # Every configured token is compared, so the time taken says nothing about which matched.
        matches = [secrets.compare_digest(candidate, token) for token in self._internal]
        return any(matches)

    async def _lookup(self, secret: str, kind: str) -> Principal | None:
        digest = secret_hash(secret)
        key = f"{kind}:{digest}"
        # One read: between `in` and `[]` a TTLCache entry can expire (a KeyError, a 500).
        cached = self._cache.get(key, _UNCACHED)
        if cached is not _UNCACHED:
            return cached  # type: ignore[return-value]
        async with self.db.engine.connect() as conn:
            result = await conn.execute(
                text("SELECT * FROM authenticate_credential(:hash, :now)"), {"hash": digest, "now": self._now()}
            )
            row = result.mappings().first()
            await conn.commit()
        found = None
        if row is not None and row["kind"] == kind:
            found = Principal(
                kind="user",
                name=row["name"],
                role=Role(row["role"]),
                user_id=row["user_id"],
                email=row["email"],
                credential_id=row["credential_id"],
                via=kind,  # type: ignore[arg-type]
            )
        self._cache[key] = found
        return found

    def forget(self) -> None:
        """Drop every cached answer (this process's own logout or revocation counts at once)."""
        self._cache.clear()

    def _check_origin(self, request: Request) -> None:
        """CSRF: a change sent with the session cookie must come from a page of
        this origin (or a configured UI origin). Browsers send Origin with every
        cross-origin request and with same-origin POST/PUT/PATCH/DELETE, and no
        page can forge it. SameSite=Strict already keeps the cookie off
        cross-site requests; this holds where a browser does not honour that."""
        origin = request.headers.get("origin")
        if origin is None:
            raise Forbidden("A change made with a session cookie must carry an Origin header")
        scheme = request.headers.get("x-forwarded-proto", request.url.scheme)
        own = f"{scheme}://{request.headers.get('host', '')}"
        if origin.rstrip("/") != own and origin.rstrip("/") not in self._trusted_origins:
            raise Forbidden(f"Requests from {origin} may not change anything here")


_CHALLENGE = {"WWW-Authenticate": "Bearer"}


class Access:
    """A route's rule: who may call it. Use as a dependency (`Depends(rule)`);
    it answers the Principal, or None for the rules that let anyone in (those
    look at no credential at all: a stale cookie must not break /health)."""

    def __init__(
        self,
        name: str,
        *,
        role: Role | None = None,
        signed_in: bool = True,
        platform_only: bool = False,
        user_only: bool = False,
        self_param: str | None = None,
        description: str,
    ) -> None:
        self.name = name
        self.role = role
        self.signed_in = signed_in
        self.platform_only = platform_only
        self.user_only = user_only
        # A path parameter naming a user: that user may call it too, whatever their role.
        self.self_param = self_param
        self.description = description

    def __repr__(self) -> str:
        return f"Access({self.name})"

    async def __call__(self, request: Request) -> Principal | None:
        """The check itself, run by FastAPI before the handler."""
        if not self.signed_in:
            return None
        auth: Authenticator = request.app.state.auth
        principal = await auth.principal(request)
        if principal is None:
            raise Unauthorized("Log in, or send an API token (Authorization: Bearer)", headers=_CHALLENGE)
        if self.platform_only and not principal.is_platform:
            raise Forbidden("Only the platform's own services may call this")
        if self.user_only and principal.is_platform:
            raise Forbidden("This is about a user's own account; call it with that user's credentials")
        if self.self_param is not None and _is_self(principal, request.path_params.get(self.self_param)):
            _caller.set(principal)
            return principal
        if self.role is not None and not principal.may(self.role):
            raise Forbidden(f"This needs the {self.role} role; you are a {principal.role}")
        _caller.set(principal)
        return principal


def _is_self(principal: Principal, user_id: Any) -> bool:
    return principal.user_id is not None and str(principal.user_id) == str(user_id)


OPEN = Access("open", signed_in=False, description="anyone, signed in or not")
SIGNED_LINK = Access(
    "signed link", signed_in=False, description="anyone holding the signed link (the token in the path)"
)
INTEGRATION_KEY = Access("integration key", signed_in=False, description="a sender with an integration key")
SIGNED_IN = Access("signed in", user_only=True, description="any signed-in user, for their own account")
VIEWER = Access("viewer", role=Role.VIEWER, description="viewers, responders and admins")
RESPONDER = Access("responder", role=Role.RESPONDER, description="responders and admins")
ADMIN = Access("admin", role=Role.ADMIN, description="admins")
SELF_OR_ADMIN = Access("self or admin", role=Role.ADMIN, self_param="user_id", description="the user, or an admin")
PLATFORM_ONLY = Access("platform", platform_only=True, description="the platform's own services")

# For handlers that need the caller: `principal: Caller[RESPONDER]` reads badly, so these.
Viewer = Annotated[Principal, Depends(VIEWER)]
Responder = Annotated[Principal, Depends(RESPONDER)]
Admin = Annotated[Principal, Depends(ADMIN)]
SignedIn = Annotated[Principal, Depends(SIGNED_IN)]
SelfOrAdmin = Annotated[Principal, Depends(SELF_OR_ADMIN)]
Platform = Annotated[Principal, Depends(PLATFORM_ONLY)]


def route_rules(dependant: Any) -> list[Access]:
    """The Access rules among a route's dependencies (searched all the way down)."""
    found = []
    stack = [dependant]
    while stack:
        current = stack.pop()
        if isinstance(current.call, Access):
            found.append(current.call)
        stack.extend(current.dependencies)
    return found


def rule_statuses(rules: list[Access]) -> tuple[int, ...]:
    """What a route's rules add to its documented answers."""
    return (401, 403) if any(rule.signed_in for rule in rules) else ()
