"""Accounts across the platform, through HTTP against a real database: the
first admin, logging in and out, the session cookie and its CSRF check,
lockouts, passwords, API tokens, disabled users and roles.

oncall-service owns accounts; incident-management stands in for "every other
service", which checks the same credentials through authenticate_credential()
with its own 2 s cache (AUTH_CACHE_SECONDS)."""

import asyncio
import threading
import time
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import psycopg
import pytest
from argon2 import Parameters, PasswordHasher, Type, extract_parameters
from fastapi import FastAPI
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from incident_management.config import Settings as IncidentSettings
from incident_management.main import create_app as create_incident_app
from oncall_service.config import Settings as OncallSettings
from oncall_service.main import create_app as create_oncall_app
from oncall_service.usecases import accounts as accounts_module
from platform_common.clock import Clock, ManualClock
from platform_testing import PLATFORM_HEADERS, ServiceProcess, as_service, free_port, running_app, user_with_token

ORIGIN = "http://testserver"  # the in-process client's own origin
PASSWORD = "correct horse battery staple"
NEW_PASSWORD = "tr0ub4dor and three more words"
LOGIN = "/api/v1/auth/login"
ME = "/api/v1/auth/me"
TOKENS = "/api/v1/auth/tokens"
INCIDENTS = "/api/v1/incidents"
# What AUTH_CACHE_SECONDS (2 s) promises, with room: another service stops
# admitting an ended credential within this.
ELSEWHERE_WITHIN = 5.0


class Service:
    """One app with its lifespan run: the platform's own client, and clients
    of signed-out callers made on demand (each with a cookie jar of its own)."""

    def __init__(self, app: FastAPI, platform: httpx.AsyncClient, stack: AsyncExitStack) -> None:
        self.app = app
        self.platform = platform
        self._stack = stack

    async def client(
        self,
        *,
        base_url: str = ORIGIN,
        address: str = "127.0.0.1",
        headers: dict[str, str] | None = None,
        behind_proxy: bool = False,
    ) -> httpx.AsyncClient:
        """A caller with no credential but `headers`, calling from `address`;
        `behind_proxy`: through uvicorn's proxy-headers handling, as served
        (X-Forwarded-* believed from FORWARDED_ALLOW_IPS only)."""
        asgi: Any = self.app
        if behind_proxy:
            asgi = ProxyHeadersMiddleware(asgi, trusted_hosts=self.app.state.settings.forwarded_allow_ips)
        transport = httpx.ASGITransport(app=asgi, raise_app_exceptions=False, client=(address, 40000))
        client = httpx.AsyncClient(transport=transport, base_url=base_url, headers=headers or {})
        return await self._stack.enter_async_context(client)

    async def signed_in(self, email: str, password: str = PASSWORD) -> httpx.AsyncClient:
        """A browser-like caller logged in with the session cookie."""
        client = await self.client()
        response = await log_in(client, email, password)
        assert response.status_code == 200, response.text
        return client

    async def user(self, name: str, *, role: str = "responder", password: str | None = PASSWORD) -> dict[str, Any]:
        """A user made through the API by the platform (email `<name>@example.com`)."""
        body: dict[str, Any] = {"name": name, "email": f"{name.lower()}@example.com", "role": role}
        if password is not None:
            body["password"] = password
        response = await self.platform.post("/api/v1/users", json=body)
        assert response.status_code == 201, response.text
        return response.json()


@asynccontextmanager
async def serving(app: FastAPI) -> AsyncIterator[Service]:
    async with AsyncExitStack() as stack:
        platform = await stack.enter_async_context(running_app(app))
        # Let the readiness monitor's first database ping finish rather than
        # cancel it mid-flight at shutdown.
        for _ in range(500):
            if "database" in app.state.monitor.results:
                break
            await asyncio.sleep(0.01)
        yield Service(app, platform, stack)


def oncall(database_url: str, *, clock: Clock | None = None, **overrides: Any) -> FastAPI:
    settings = OncallSettings(
        database_url=as_service(database_url, "oncall_service"),
        environment="test",
        readiness_interval_seconds=3600,
        **overrides,
    )
    return create_oncall_app(settings, clock=clock)


def incidents(database_url: str) -> FastAPI:
    nowhere = f"http://127.0.0.1:{free_port()}"
    settings = IncidentSettings(
        database_url=as_service(database_url, "incident_management"),
        environment="test",
        oncall_service_url=nowhere,
        notification_service_url=nowhere,
        incident_worker_enabled=False,
        readiness_interval_seconds=3600,
    )
    return create_incident_app(settings)


async def log_in(client: httpx.AsyncClient, email: str, password: str) -> httpx.Response:
    return await client.post(LOGIN, json={"email": email, "password": password})


def with_cookie(secret: str) -> dict[str, str]:
    return {"Cookie": f"session={secret}"}


def set_cookie(response: httpx.Response) -> list[str]:
    """The Set-Cookie header's attributes, lower-cased (the first, `name=value`, as sent)."""
    first, *attributes = [part.strip() for part in response.headers["set-cookie"].split(";")]
    return [first, *(a.lower() for a in attributes)]


async def refused_within(client: httpx.AsyncClient, path: str, seconds: float, **kwargs: Any) -> float:
    """How long until `path` answers 401 (AssertionError if not within `seconds`)."""
    start = time.monotonic()
    while True:
        response = await client.get(path, **kwargs)
        if response.status_code == 401:
            return time.monotonic() - start
        assert response.status_code == 200, response.text
        assert time.monotonic() - start < seconds, f"{path} still admitted after {seconds} s"
        await asyncio.sleep(0.1)


def sql(database_url: str, statement: str, *params: Any) -> list[tuple[Any, ...]]:
    with psycopg.connect(database_url, autocommit=True) as conn:
        cursor = conn.execute(statement, params)
        return cursor.fetchall() if cursor.description else []


# --- the first admin -------------------------------------------------------------------------


async def test_first_admin_is_created_from_admin_email_and_password_and_can_log_in(clean_database):
    app = oncall(clean_database, admin_email="Root@Example.com", admin_password=PASSWORD)
    async with serving(app) as service:
        client = await service.client()
        response = await log_in(client, "root@example.com", PASSWORD)
        assert response.status_code == 200, response.text
        assert response.json()["user"]["role"] == "admin"
        me = await client.get(ME)
        assert me.status_code == 200
        assert (me.json()["email"], me.json()["role"]) == ("root@example.com", "admin")


async def test_starting_again_neither_changes_nor_duplicates_the_first_admin(clean_database):
    async with serving(oncall(clean_database, admin_email="root@example.com", admin_password=PASSWORD)) as service:
        admin = await service.signed_in("root@example.com")
        changed = await admin.put(
            "/api/v1/auth/password",
            json={"current_password": PASSWORD, "new_password": NEW_PASSWORD},
            headers={"Origin": ORIGIN},
        )
        assert changed.status_code == 204, changed.text
    # The next start still carries ADMIN_PASSWORD (and a third one another value):
    # the password changed since is kept, and there is still one such user.
    for password in (PASSWORD, "yet another long password"):
        async with serving(oncall(clean_database, admin_email="root@example.com", admin_password=password)) as service:
            client = await service.client()
            assert (await log_in(client, "root@example.com", password)).status_code == 401
            assert (await log_in(client, "root@example.com", NEW_PASSWORD)).status_code == 200
    assert sql(clean_database, "SELECT role FROM users WHERE lower(email) = 'root@example.com'") == [("admin",)]


async def test_no_admin_is_made_when_admin_email_and_password_are_unset(clean_database, monkeypatch):
    monkeypatch.delenv("ADMIN_EMAIL", raising=False)
    monkeypatch.delenv("ADMIN_PASSWORD", raising=False)
    async with serving(oncall(clean_database)) as service:
        assert (await service.platform.get("/api/v1/users")).json()["total"] == 0
    assert sql(clean_database, "SELECT count(*) FROM users") == [(0,)]


# --- logging in --------------------------------------------------------------------------------


async def test_login_with_the_right_password_sets_an_httponly_strict_session_cookie(clean_database):
    async with serving(oncall(clean_database)) as service:
        await service.user("Ann")
        client = await service.client()
        response = await log_in(client, "ann@example.com", PASSWORD)
        assert response.status_code == 200, response.text
        assert response.json()["user"]["email"] == "ann@example.com"
        assert response.json()["expires_at"]
        cookie = set_cookie(response)
        assert cookie[0].startswith("session=") and len(cookie[0]) > len("session=") + 30
        assert "httponly" in cookie
        assert "samesite=strict" in cookie
        assert "path=/" in cookie
        assert "secure" not in cookie  # plain http: a Secure cookie would never come back
        # The secret is not in the body, only in the cookie.
        assert cookie[0].removeprefix("session=") not in response.text


async def test_session_cookie_is_secure_behind_tls_when_the_front_door_says_so(clean_database):
    async with serving(oncall(clean_database)) as service:
        await service.user("Ann")
        # Served over https directly.
        direct = await service.client(base_url="https://testserver")
        assert "secure" in set_cookie(await log_in(direct, "ann@example.com", PASSWORD))
        # Behind the front door (FORWARDED_ALLOW_IPS=127.0.0.1): X-Forwarded-Proto believed.
        proxied = await service.client(behind_proxy=True, headers={"X-Forwarded-Proto": "https"})
        assert "secure" in set_cookie(await log_in(proxied, "ann@example.com", PASSWORD))
        # From anywhere else the header is not believed.
        stranger = await service.client(
            behind_proxy=True, address="203.0.113.9", headers={"X-Forwarded-Proto": "https"}
        )
        assert "secure" not in set_cookie(await log_in(stranger, "ann@example.com", PASSWORD))


async def test_wrong_password_and_unknown_email_get_the_same_401(clean_database):
    async with serving(oncall(clean_database)) as service:
        await service.user("Ann")
        client = await service.client()
        wrong = await log_in(client, "ann@example.com", "not the password at all")
        unknown = await log_in(client, "nobody@example.com", PASSWORD)
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.json() == unknown.json() == {"detail": "Email or password is wrong"}
    assert "set-cookie" not in wrong.headers and "set-cookie" not in unknown.headers


# What SECURITY.md documents: Argon2id, RFC 9106's low-memory profile.
ARGON2ID = Parameters(type=Type.ID, version=19, salt_len=16, hash_len=32, time_cost=3, memory_cost=65536, parallelism=4)


async def test_passwords_are_stored_as_argon2id_with_the_documented_parameters(clean_database):
    async with serving(oncall(clean_database)) as service:
        ann = await service.user("Ann")
        await service.platform.post(f"/api/v1/users/{ann['id']}/password", json={"password": NEW_PASSWORD})
        await service.user("Bob")
        stored = sql(clean_database, "SELECT password_hash FROM users ORDER BY name")
    assert len(stored) == 2
    for (encoded,) in stored:
        assert encoded.startswith("$argon2id$")
        assert extract_parameters(encoded) == ARGON2ID


class CountingHasher(PasswordHasher):
    """The service's hasher, recording the parameters of every hash a password is checked against."""

    def __init__(self) -> None:
        super().__init__(time_cost=3, memory_cost=65536, parallelism=4, hash_len=32, salt_len=16)
        self.checked: list[Parameters] = []

    def verify(self, hash: str | bytes, password: str | bytes) -> bool:
        self.checked.append(extract_parameters(hash if isinstance(hash, str) else hash.decode()))
        return super().verify(hash, password)


@pytest.mark.parametrize(
    ("email", "password"),
    [
        ("nobody@example.com", PASSWORD),  # no such account
        ("ann@example.com", "not the password at all"),  # a wrong password
        ("pat@example.com", PASSWORD),  # an account without a password (paged, never logs in)
        ("ann@example.com", PASSWORD),  # the right one
    ],
)
async def test_every_login_runs_the_same_one_argon2_check(clean_database, monkeypatch, email, password):
    hasher = CountingHasher()
    monkeypatch.setattr(accounts_module, "_HASHER", hasher)
    async with serving(oncall(clean_database)) as service:
        await service.user("Ann")
        await service.user("Pat", password=None)
        hasher.checked.clear()
        await log_in(await service.client(), email, password)
    # One check against a hash of the documented parameters, whoever the email names:
    # the answer takes as long whether the account exists, and whether it has a password.
    assert hasher.checked == [ARGON2ID]


@pytest.mark.parametrize("email", ["ann@example.com", "nobody@example.com"])
async def test_a_failed_login_holds_a_transaction_id_during_the_password_check_whoever_the_email_names(
    clean_database, monkeypatch, email
):
    """A known email's failure is written (its count, under a row lock), so its
    commit waits for the write-ahead log to reach the disk; an unknown email's
    transaction takes a transaction id too, so its commit waits as long."""
    checking, carry_on = threading.Event(), threading.Event()

    class PausingHasher(PasswordHasher):
        def verify(self, hash: str | bytes, password: str | bytes) -> bool:
            checking.set()
            carry_on.wait(10)
            return super().verify(hash, password)

    monkeypatch.setattr(accounts_module, "_HASHER", PausingHasher())
    async with serving(oncall(clean_database)) as service:
        await service.user("Ann")
        login = asyncio.create_task(log_in(await service.client(), email, "a wrong password"))
        try:
            assert await asyncio.to_thread(checking.wait, 10), "the password was never checked"
            transactions = sql(
                clean_database,
                "SELECT backend_xid IS NOT NULL FROM pg_stat_activity"
                " WHERE datname = current_database() AND state = 'idle in transaction'",
            )
        finally:
            carry_on.set()
        assert (await login).status_code == 401
    assert transactions == [(True,)]


async def test_disabled_user_cannot_log_in(clean_database):
    async with serving(oncall(clean_database)) as service:
        ann = await service.user("Ann")
        await service.user("Root", role="admin")
        disabled = await service.platform.patch(f"/api/v1/users/{ann['id']}", json={"disabled": True})
        assert disabled.status_code == 200, disabled.text
        response = await log_in(await service.client(), "ann@example.com", PASSWORD)
    assert response.status_code == 403
    assert "disabled" in response.json()["detail"]
    assert "set-cookie" not in response.headers


# --- the session cookie and CSRF -----------------------------------------------------------------


async def test_session_cookie_signs_the_user_in(clean_database):
    async with serving(oncall(clean_database)) as service:
        ann = await service.user("Ann", role="viewer")
        client = await service.signed_in("ann@example.com")
        me = await client.get(ME)
        assert me.status_code == 200
        assert (me.json()["id"], me.json()["role"]) == (ann["id"], "viewer")
        # Reads elsewhere in the service take it too.
        assert (await client.get("/api/v1/users")).status_code == 200
        # Without it: 401.
        assert (await (await service.client()).get(ME)).status_code == 401


async def test_a_change_made_with_the_session_cookie_needs_the_services_own_origin(clean_database):
    async with serving(oncall(clean_database)) as service:
        await service.user("Ann")
        client = await service.signed_in("ann@example.com")
        no_origin = await client.post(TOKENS, json={"name": "ci"})
        assert no_origin.status_code == 403
        assert "Origin" in no_origin.json()["detail"]
        foreign = await client.post(TOKENS, json={"name": "ci"}, headers={"Origin": "https://evil.example"})
        assert foreign.status_code == 403
        assert "https://evil.example" in foreign.json()["detail"]
        # Nothing was made by the refused tries.
        assert (await client.get(TOKENS)).json()["total"] == 0
        own = await client.post(TOKENS, json={"name": "ci"}, headers={"Origin": ORIGIN})
        assert own.status_code == 201, own.text
        # The configured UI's origin (UI_BASE_URL) is allowed too.
        ui = await client.post(TOKENS, json={"name": "ui"}, headers={"Origin": "http://127.0.0.1:8080"})
        assert ui.status_code == 201, ui.text
        assert (await client.get(TOKENS)).json()["total"] == 2


# --- logging out -----------------------------------------------------------------------------


async def test_logout_ends_the_session_at_once(clean_database):
    async with serving(oncall(clean_database)) as service:
        await service.user("Ann")
        client = await service.signed_in("ann@example.com")
        secret = client.cookies["session"]
        # Looked up (and cached) just before.
        assert (await client.get(ME)).status_code == 200
        out = await client.post("/api/v1/auth/logout", headers={"Origin": ORIGIN})
        assert out.status_code == 204
        assert 'session=""' in out.headers["set-cookie"] or "max-age=0" in out.headers["set-cookie"].lower()
        # The same cookie, kept by someone who copied it, no longer counts here.
        replay = await service.client(headers=with_cookie(secret))
        again = await replay.get(ME)
        assert again.status_code == 401
        assert "log in again" in again.json()["detail"]


async def test_logout_counts_on_other_services_within_the_auth_cache(clean_database):
    async with serving(oncall(clean_database)) as accounts, serving(incidents(clean_database)) as other:
        await accounts.user("Ann")
        client = await accounts.signed_in("ann@example.com")
        elsewhere = await other.client(headers=with_cookie(client.cookies["session"]))
        assert (await elsewhere.get(INCIDENTS)).status_code == 200
        assert (await client.post("/api/v1/auth/logout", headers={"Origin": ORIGIN})).status_code == 204
        await refused_within(elsewhere, INCIDENTS, ELSEWHERE_WITHIN)


# --- lockout and throttling ------------------------------------------------------------------


async def test_repeated_failures_lock_the_account_for_a_growing_while(clean_database):
    clock = ManualClock(datetime.now(UTC))
    async with serving(oncall(clean_database, clock=clock)) as service:
        await service.user("Ann")
        client = await service.client()
        # The first failures are free (a typo); the fifth locks the account.
        for _ in range(5):
            assert (await log_in(client, "ann@example.com", "wrong password")).status_code == 401
        locked = await log_in(client, "ann@example.com", PASSWORD)
        assert locked.status_code == 429
        assert locked.headers["Retry-After"] == "30"
        assert locked.json()["retry_after_seconds"] == 30
        assert locked.json()["detail"] == "Too many failed logins for this account; try again in 30 s"
        assert "set-cookie" not in locked.headers
        # Still locked a little later, and it says how long is left.
        clock.advance(timedelta(seconds=20))
        later = await log_in(client, "ann@example.com", PASSWORD)
        assert later.status_code == 429 and later.headers["Retry-After"] == "10"
        # After the lock a wrong password again locks for twice as long.
        clock.advance(timedelta(seconds=11))
        assert (await log_in(client, "ann@example.com", "wrong again")).status_code == 401
        twice = await log_in(client, "ann@example.com", PASSWORD)
        assert twice.status_code == 429 and twice.headers["Retry-After"] == "60"
        # Once it has passed, the right password works and the count starts over.
        clock.advance(timedelta(seconds=61))
        assert (await log_in(client, "ann@example.com", PASSWORD)).status_code == 200
        for _ in range(4):
            assert (await log_in(client, "ann@example.com", "wrong password")).status_code == 401
        assert (await log_in(client, "ann@example.com", PASSWORD)).status_code == 200
        # Another account is not affected by Ann's lock.
        await service.user("Bob")
        for _ in range(5):
            await log_in(client, "ann@example.com", "wrong password")
        assert (await log_in(client, "ann@example.com", PASSWORD)).status_code == 429
        assert (await log_in(client, "bob@example.com", PASSWORD)).status_code == 200


async def test_each_further_failure_doubles_the_lock_up_to_15_minutes(clean_database):
    clock = ManualClock(datetime.now(UTC))
    async with serving(oncall(clean_database, clock=clock)) as service:
        await service.user("Ann")
        client = await service.client()
        for _ in range(4):
            assert (await log_in(client, "ann@example.com", "wrong password")).status_code == 401
        locks = []
        for _ in range(8):
            # Each time the lock has passed, one more wrong password locks it again.
            assert (await log_in(client, "ann@example.com", "wrong password")).status_code == 401
            locked = await log_in(client, "ann@example.com", PASSWORD)
            assert locked.status_code == 429, locked.text
            locks.append(int(locked.headers["Retry-After"]))
            clock.advance(timedelta(seconds=locks[-1] + 1))
        assert locks == [30, 60, 120, 240, 480, 900, 900, 900]
        assert locked.json()["detail"] == "Too many failed logins for this account; try again in 900 s"


async def test_an_admin_password_reset_lifts_a_lock(clean_database):
    async with serving(oncall(clean_database)) as service:
        ann = await service.user("Ann")
        client = await service.client()
        for _ in range(5):
            await log_in(client, "ann@example.com", "wrong password")
        assert (await log_in(client, "ann@example.com", PASSWORD)).status_code == 429
        reset = await service.platform.post(f"/api/v1/users/{ann['id']}/password", json={"password": NEW_PASSWORD})
        assert reset.status_code == 204, reset.text
        assert (await log_in(client, "ann@example.com", NEW_PASSWORD)).status_code == 200


async def test_failed_logins_from_one_client_against_any_accounts_are_throttled(clean_database):
    async with serving(oncall(clean_database, login_failures_per_client="3/minute")) as service:
        await service.user("Ann")
        await service.user("Bob")
        client = await service.client(address="198.51.100.7")
        # Three failures, each against another account (none gets locked by them).
        for email in ("ann@example.com", "bob@example.com", "nobody@example.com"):
            assert (await log_in(client, email, "wrong password")).status_code == 401
        throttled = await log_in(client, "ann@example.com", PASSWORD)
        assert throttled.status_code == 429
        assert 1 <= int(throttled.headers["Retry-After"]) <= 60
        assert throttled.json()["detail"].startswith("Too many failed logins from here; try again in")
        assert "set-cookie" not in throttled.headers
        # Another client is not held back, and the accounts are not locked.
        elsewhere = await service.client(address="198.51.100.8")
        assert (await log_in(elsewhere, "ann@example.com", PASSWORD)).status_code == 200


async def test_successful_logins_do_not_use_up_a_clients_failures(clean_database):
    async with serving(oncall(clean_database, login_failures_per_client="3/minute")) as service:
        await service.user("Ann")
        client = await service.client()
        for _ in range(5):
            assert (await log_in(client, "ann@example.com", PASSWORD)).status_code == 200


# --- passwords ---------------------------------------------------------------------------------


async def test_a_user_changes_their_own_password_and_their_other_sessions_end(clean_database):
    async with serving(oncall(clean_database)) as service:
        await service.user("Ann")
        here = await service.signed_in("ann@example.com")
        other = await service.signed_in("ann@example.com")
        assert (await other.get(ME)).status_code == 200
        changed = await here.put(
            "/api/v1/auth/password",
            json={"current_password": PASSWORD, "new_password": NEW_PASSWORD},
            headers={"Origin": ORIGIN},
        )
        assert changed.status_code == 204, changed.text
        # The session that changed it stays; the other one ends at once.
        assert (await here.get(ME)).status_code == 200
        assert (await other.get(ME)).status_code == 401
        fresh = await service.client()
        assert (await log_in(fresh, "ann@example.com", PASSWORD)).status_code == 401
        assert (await log_in(fresh, "ann@example.com", NEW_PASSWORD)).status_code == 200


async def test_a_password_change_needs_the_current_password(clean_database):
    async with serving(oncall(clean_database)) as service:
        await service.user("Ann")
        client = await service.signed_in("ann@example.com")
        refused = await client.put(
            "/api/v1/auth/password",
            json={"current_password": "not my password", "new_password": NEW_PASSWORD},
            headers={"Origin": ORIGIN},
        )
        assert refused.status_code == 403
        assert refused.json()["detail"] == "The current password is wrong"
        assert (await client.get(ME)).status_code == 200
        fresh = await service.client()
        assert (await log_in(fresh, "ann@example.com", NEW_PASSWORD)).status_code == 401
        assert (await log_in(fresh, "ann@example.com", PASSWORD)).status_code == 200


async def change_password(client: httpx.AsyncClient, current: str, new: str = NEW_PASSWORD) -> httpx.Response:
    return await client.put(
        "/api/v1/auth/password", json={"current_password": current, "new_password": new}, headers={"Origin": ORIGIN}
    )


async def test_wrong_current_passwords_count_as_failed_logins_and_lock_the_account(clean_database):
    clock = ManualClock(datetime.now(UTC))
    async with serving(oncall(clean_database, clock=clock)) as service:
        await service.user("Ann")
        # Someone holding Ann's session (a borrowed laptop) guesses her password through the change.
        session = await service.signed_in("ann@example.com")
        for _ in range(4):
            assert (await change_password(session, "a guess")).status_code == 403
        # Failed logins and wrong current passwords are one count: the fifth failure, a login, locks.
        assert (await log_in(await service.client(), "ann@example.com", "another guess")).status_code == 401
        locked = await change_password(session, PASSWORD)
        assert locked.status_code == 429, locked.text
        assert locked.headers["Retry-After"] == "30"
        assert locked.json()["retry_after_seconds"] == 30
        # The lock holds for logins too, and nothing was changed.
        assert (await log_in(await service.client(), "ann@example.com", PASSWORD)).status_code == 429
        clock.advance(timedelta(seconds=31))
        # After the lock one more wrong guess locks for twice as long, as a failed login does.
        assert (await change_password(session, "a guess after the lock")).status_code == 403
        again = await change_password(session, PASSWORD)
        assert again.status_code == 429 and again.headers["Retry-After"] == "60"
        clock.advance(timedelta(seconds=61))
        # The right current password then works, and starts the count over.
        assert (await change_password(session, PASSWORD)).status_code == 204
        assert sql(clean_database, "SELECT failed_logins, locked_until FROM users WHERE email = 'ann@example.com'") == [
            (0, None)
        ]
        assert (await log_in(await service.client(), "ann@example.com", NEW_PASSWORD)).status_code == 200


async def test_wrong_current_passwords_use_up_the_clients_failed_logins(clean_database):
    async with serving(oncall(clean_database, login_failures_per_client="3/minute")) as service:
        await service.user("Ann")
        await service.user("Bob")
        ann = await service.signed_in("ann@example.com")
        for _ in range(2):
            assert (await change_password(ann, "a guess")).status_code == 403
        assert (await log_in(await service.client(), "bob@example.com", "a guess")).status_code == 401
        throttled = await change_password(ann, PASSWORD)
        assert throttled.status_code == 429
        assert throttled.json()["detail"].startswith("Too many failed logins from here; try again in")
        assert 1 <= int(throttled.headers["Retry-After"]) <= 60
        # Neither account is locked: the client is held back, not them.
        elsewhere = await service.client(address="198.51.100.8")
        assert (await log_in(elsewhere, "bob@example.com", PASSWORD)).status_code == 200


async def test_a_too_short_password_is_refused_naming_the_rule(clean_database):
    async with serving(oncall(clean_database)) as service:
        ann = await service.user("Ann")
        client = await service.signed_in("ann@example.com")
        own = await client.put(
            "/api/v1/auth/password",
            json={"current_password": PASSWORD, "new_password": "short"},
            headers={"Origin": ORIGIN},
        )
        assert own.status_code == 422
        (problem,) = own.json()["detail"]
        assert problem["loc"][-1] == "new_password"
        assert "at least 12 characters" in problem["msg"]
        reset = await service.platform.post(f"/api/v1/users/{ann['id']}/password", json={"password": "elevenchars"})
        assert reset.status_code == 422
        assert reset.json()["detail"][0]["loc"][-1] == "password"
        assert "at least 12 characters" in reset.json()["detail"][0]["msg"]
        created = await service.platform.post(
            "/api/v1/users", json={"name": "Bob", "email": "bob@example.com", "password": "short"}
        )
        assert created.status_code == 422
        # Nothing changed.
        assert (await log_in(await service.client(), "ann@example.com", PASSWORD)).status_code == 200


async def test_an_admin_resets_another_users_password_and_their_sessions_and_tokens_end(clean_database):
    async with serving(oncall(clean_database)) as accounts, serving(incidents(clean_database)) as other:
        ann = await accounts.user("Ann")
        _, admin = user_with_token(clean_database, "Root", role="admin")
        session = await accounts.signed_in("ann@example.com")
        token = (await session.post(TOKENS, json={"name": "ci"}, headers={"Origin": ORIGIN})).json()["token"]
        script = await accounts.client(headers={"Authorization": f"Bearer {token}"})
        elsewhere = await other.client(headers={"Authorization": f"Bearer {token}"})
        assert (await session.get(ME)).status_code == 200
        assert (await script.get(ME)).status_code == 200
        assert (await elsewhere.get(INCIDENTS)).status_code == 200
        reset = await (await accounts.client(headers=admin)).post(
            f"/api/v1/users/{ann['id']}/password", json={"password": NEW_PASSWORD}
        )
        assert reset.status_code == 204, reset.text
        # A reset is what an admin does when the account may be in someone else's hands:
        # every credential of it ends, the API tokens too.
        assert (await session.get(ME)).status_code == 401
        assert (await script.get(ME)).status_code == 401
        await refused_within(elsewhere, INCIDENTS, ELSEWHERE_WITHIN)
        fresh = await accounts.client()
        assert (await log_in(fresh, "ann@example.com", PASSWORD)).status_code == 401
        assert (await log_in(fresh, "ann@example.com", NEW_PASSWORD)).status_code == 200


async def test_a_responder_cannot_reset_someone_elses_password(clean_database):
    async with serving(oncall(clean_database)) as service:
        ann = await service.user("Ann")
        await service.user("Bob")
        bob = await service.signed_in("bob@example.com")
        refused = await bob.post(
            f"/api/v1/users/{ann['id']}/password", json={"password": NEW_PASSWORD}, headers={"Origin": ORIGIN}
        )
        assert refused.status_code == 403
        assert "admin" in refused.json()["detail"]
        assert (await log_in(await service.client(), "ann@example.com", PASSWORD)).status_code == 200


# --- API tokens --------------------------------------------------------------------------------


async def test_an_api_tokens_secret_is_shown_once_and_never_listed(clean_database):
    async with serving(oncall(clean_database)) as service:
        await service.user("Ann")
        client = await service.signed_in("ann@example.com")
        created = await client.post(TOKENS, json={"name": "ci"}, headers={"Origin": ORIGIN})
        assert created.status_code == 201, created.text
        token = created.json()
        assert token["token"].startswith("ipt_") and len(token["token"]) > 40
        assert (token["name"], token["expires_at"], token["last_used_at"]) == ("ci", None, None)
        listed = await client.get(TOKENS)
        assert listed.status_code == 200
        assert listed.json()["total"] == 1
        (item,) = listed.json()["items"]
        assert item["id"] == token["id"] and "token" not in item
        assert token["token"] not in listed.text
        # Only its hash is stored.
        assert sql(clean_database, "SELECT count(*) FROM auth_credentials WHERE secret_hash = %s", token["token"]) == [
            (0,)
        ]


async def test_an_api_token_works_on_every_service_and_records_its_last_use(clean_database):
    async with serving(oncall(clean_database)) as accounts, serving(incidents(clean_database)) as other:
        ann = await accounts.user("Ann", role="viewer")
        session = await accounts.signed_in("ann@example.com")
        secret = (await session.post(TOKENS, json={"name": "script"}, headers={"Origin": ORIGIN})).json()["token"]
        bearer = {"Authorization": f"Bearer {secret}"}
        script = await accounts.client(headers=bearer)
        me = await script.get(ME)
        assert me.status_code == 200 and me.json()["id"] == ann["id"]
        assert (await script.get("/api/v1/users")).status_code == 200
        # A Bearer token is not a cookie: no Origin needed for a change.
        assert (await script.post(TOKENS, json={"name": "made by script"})).status_code == 201
        elsewhere = await other.client(headers=bearer)
        listed = await elsewhere.get(INCIDENTS)
        assert listed.status_code == 200, listed.text
        # Its role holds there too: a viewer may not open an incident.
        opened = await elsewhere.post(INCIDENTS, json={"title": "by hand", "severity": "high"})
        assert opened.status_code == 403
        (used,) = [t for t in (await session.get(TOKENS)).json()["items"] if t["name"] == "script"]
        assert used["last_used_at"] is not None
        assert abs(datetime.fromisoformat(used["last_used_at"]) - datetime.now(UTC)) < timedelta(minutes=1)


async def test_a_revoked_token_is_refused_here_at_once_and_elsewhere_within_the_cache(clean_database):
    async with serving(oncall(clean_database)) as accounts, serving(incidents(clean_database)) as other:
        await accounts.user("Ann")
        session = await accounts.signed_in("ann@example.com")
        token = (await session.post(TOKENS, json={"name": "ci"}, headers={"Origin": ORIGIN})).json()
        bearer = {"Authorization": f"Bearer {token['token']}"}
        script = await accounts.client(headers=bearer)
        elsewhere = await other.client(headers=bearer)
        assert (await script.get(ME)).status_code == 200
        assert (await elsewhere.get(INCIDENTS)).status_code == 200
        revoked = await session.delete(f"{TOKENS}/{token['id']}", headers={"Origin": ORIGIN})
        assert revoked.status_code == 204
        refused = await script.get(ME)
        assert refused.status_code == 401
        assert refused.headers["WWW-Authenticate"] == "Bearer"
        assert "revoked" in refused.json()["detail"]
        await refused_within(elsewhere, INCIDENTS, ELSEWHERE_WITHIN)
        assert (await session.get(TOKENS)).json()["total"] == 0
        # Revoking it again: it is gone.
        assert (await session.delete(f"{TOKENS}/{token['id']}", headers={"Origin": ORIGIN})).status_code == 404


async def test_an_expired_token_is_refused(clean_database):
    async with serving(oncall(clean_database)) as accounts, serving(incidents(clean_database)) as other:
        await accounts.user("Ann")
        session = await accounts.signed_in("ann@example.com")
        soon = (datetime.now(UTC) + timedelta(hours=1)).isoformat()
        token = (
            await session.post(TOKENS, json={"name": "short-lived", "expires_at": soon}, headers={"Origin": ORIGIN})
        ).json()
        assert datetime.fromisoformat(token["expires_at"]) == datetime.fromisoformat(soon)
        # Its hour has passed (written straight into the database).
        sql(
            clean_database,
            "UPDATE auth_credentials SET expires_at = now() - interval '1 minute' WHERE id = %s",
            token["id"],
        )
        bearer = {"Authorization": f"Bearer {token['token']}"}
        assert (await (await accounts.client(headers=bearer)).get(ME)).status_code == 401
        assert (await (await other.client(headers=bearer)).get(INCIDENTS)).status_code == 401
        # Listed still, marked by its expires_at, until revoked.
        assert [t["id"] for t in (await session.get(TOKENS)).json()["items"]] == [token["id"]]


async def test_a_token_cannot_be_made_already_expired(clean_database):
    async with serving(oncall(clean_database)) as service:
        await service.user("Ann")
        session = await service.signed_in("ann@example.com")
        past = (datetime.now(UTC) - timedelta(minutes=1)).isoformat()
        refused = await session.post(TOKENS, json={"name": "stale", "expires_at": past}, headers={"Origin": ORIGIN})
        assert refused.status_code == 422
        assert "future" in refused.json()["detail"]
        naive = await session.post(
            TOKENS, json={"name": "no zone", "expires_at": "2099-01-01T00:00:00"}, headers={"Origin": ORIGIN}
        )
        assert naive.status_code == 422
        assert (await session.get(TOKENS)).json()["total"] == 0


async def test_a_user_cannot_revoke_another_users_token(clean_database):
    async with serving(oncall(clean_database)) as service:
        await service.user("Ann")
        await service.user("Bob", role="admin")
        ann = await service.signed_in("ann@example.com")
        token = (await ann.post(TOKENS, json={"name": "ci"}, headers={"Origin": ORIGIN})).json()
        bob = await service.signed_in("bob@example.com")
        # Not even an admin: tokens are their owner's own.
        refused = await bob.delete(f"{TOKENS}/{token['id']}", headers={"Origin": ORIGIN})
        assert refused.status_code == 404
        assert (await bob.get(TOKENS)).json()["total"] == 0
        script = await service.client(headers={"Authorization": f"Bearer {token['token']}"})
        assert (await script.get(ME)).status_code == 200
        assert [t["id"] for t in (await ann.get(TOKENS)).json()["items"]] == [token["id"]]


async def test_the_platforms_credential_has_no_account_of_its_own(clean_database):
    async with serving(oncall(clean_database)) as service:
        me = await service.platform.get(ME)
        assert me.status_code == 403
        made = await service.platform.post(TOKENS, json={"name": "x"})
        assert made.status_code == 403
        assert (await (await service.client(headers=PLATFORM_HEADERS)).get("/api/v1/users")).status_code == 200


# --- disabled users --------------------------------------------------------------------------


async def test_disabling_a_user_ends_their_tokens_and_sessions_on_every_service(clean_database):
    async with serving(oncall(clean_database)) as accounts, serving(incidents(clean_database)) as other:
        ann = await accounts.user("Ann")
        _, admin_token = user_with_token(clean_database, "Root", role="admin")
        session = await accounts.signed_in("ann@example.com")
        token = (await session.post(TOKENS, json={"name": "ci"}, headers={"Origin": ORIGIN})).json()["token"]
        bearer = {"Authorization": f"Bearer {token}"}
        cookie = with_cookie(session.cookies["session"])
        script = await accounts.client(headers=bearer)
        other_script = await other.client(headers=bearer)
        other_browser = await other.client(headers=cookie)
        for client, path in ((session, ME), (script, ME), (other_script, INCIDENTS), (other_browser, INCIDENTS)):
            assert (await client.get(path)).status_code == 200

        admin = await accounts.client(headers=admin_token)
        disabled = await admin.patch(f"/api/v1/users/{ann['id']}", json={"disabled": True})
        assert disabled.status_code == 200, disabled.text

        # oncall-service made the change: it forgets at once.
        assert (await session.get(ME)).status_code == 401
        assert (await script.get(ME)).status_code == 401
        # Every other service within its cache.
        await refused_within(other_script, INCIDENTS, ELSEWHERE_WITHIN)
        await refused_within(other_browser, INCIDENTS, ELSEWHERE_WITHIN)
        assert (await log_in(await accounts.client(), "ann@example.com", PASSWORD)).status_code == 403

        # Enabled again, a new login works; the old session and token stay revoked, here and elsewhere.
        enabled = await admin.patch(f"/api/v1/users/{ann['id']}", json={"disabled": False})
        assert enabled.status_code == 200
        assert (await log_in(await accounts.client(), "ann@example.com", PASSWORD)).status_code == 200
        assert (await (await accounts.client(headers=cookie)).get(ME)).status_code == 401
        assert (await script.get(ME)).status_code == 401
        await refused_within(other_script, INCIDENTS, ELSEWHERE_WITHIN)
        await refused_within(other_browser, INCIDENTS, ELSEWHERE_WITHIN)
        revoked = sql(clean_database, "SELECT kind FROM auth_credentials WHERE revoked_at IS NOT NULL ORDER BY kind")
        assert revoked == [("session",), ("token",)]


async def test_only_an_admin_disables_a_user(clean_database):
    async with serving(oncall(clean_database)) as service:
        ann = await service.user("Ann")
        await service.user("Bob")
        bob = await service.signed_in("bob@example.com")
        refused = await bob.patch(f"/api/v1/users/{ann['id']}", json={"disabled": True}, headers={"Origin": ORIGIN})
        assert refused.status_code == 403
        own = await bob.get(ME)
        # Not even themselves.
        themselves = await bob.patch(
            f"/api/v1/users/{own.json()['id']}", json={"disabled": True}, headers={"Origin": ORIGIN}
        )
        assert themselves.status_code == 403
        assert (await log_in(await service.client(), "ann@example.com", PASSWORD)).status_code == 200


# --- roles -------------------------------------------------------------------------------------


async def test_a_viewer_cannot_change_anyones_role(clean_database):
    async with serving(oncall(clean_database)) as service:
        ann = await service.user("Ann")
        viewer_id, viewer = user_with_token(clean_database, "Vic", role="viewer")
        client = await service.client(headers=viewer)
        for target in (ann["id"], viewer_id):
            refused = await client.patch(f"/api/v1/users/{target}", json={"role": "admin"})
            assert refused.status_code == 403, refused.text
            assert "admin" in refused.json()["detail"]
        assert (await client.get(ME)).json()["role"] == "viewer"
        assert (await service.platform.get(f"/api/v1/users/{ann['id']}")).json()["role"] == "responder"


async def test_an_admin_makes_a_user_responder_or_admin_and_it_counts_at_once(clean_database):
    async with serving(oncall(clean_database)) as service:
        vic = await service.user("Vic", role="viewer")
        _, admin_token = user_with_token(clean_database, "Root", role="admin")
        admin = await service.client(headers=admin_token)
        session = await service.signed_in("vic@example.com")
        assert (await session.get(ME)).json()["role"] == "viewer"
        # A viewer may not make users.
        body = {"name": "New", "email": "new@example.com"}
        assert (await session.post("/api/v1/users", json=body, headers={"Origin": ORIGIN})).status_code == 403

        responder = await admin.patch(f"/api/v1/users/{vic['id']}", json={"role": "responder"})
        assert responder.status_code == 200 and responder.json()["role"] == "responder"
        assert (await session.get(ME)).json()["role"] == "responder"

        promoted = await admin.patch(f"/api/v1/users/{vic['id']}", json={"role": "admin"})
        assert promoted.status_code == 200 and promoted.json()["role"] == "admin"
        assert (await session.get(ME)).json()["role"] == "admin"
        made = await session.post("/api/v1/users", json=body, headers={"Origin": ORIGIN})
        assert made.status_code == 201, made.text


async def test_a_user_edits_their_own_profile_but_cannot_raise_their_own_role(clean_database):
    async with serving(oncall(clean_database)) as service:
        for role in ("viewer", "responder"):
            user = await service.user(f"User{role}", role=role)
            client = await service.signed_in(f"user{role}@example.com")
            path = f"/api/v1/users/{user['id']}"
            edited = await client.patch(
                path, json={"name": "Renamed", "timezone": "Europe/Berlin"}, headers={"Origin": ORIGIN}
            )
            assert edited.status_code == 200, edited.text
            assert (edited.json()["name"], edited.json()["timezone"]) == ("Renamed", "Europe/Berlin")
            raised = await client.patch(path, json={"name": "Sneaky", "role": "admin"}, headers={"Origin": ORIGIN})
            assert raised.status_code == 403
            assert "admin" in raised.json()["detail"]
            me = (await client.get(ME)).json()
            assert (me["name"], me["role"]) == ("Renamed", role)


async def test_a_user_cannot_edit_someone_elses_profile(clean_database):
    async with serving(oncall(clean_database)) as service:
        ann = await service.user("Ann")
        await service.user("Bob")
        bob = await service.signed_in("bob@example.com")
        refused = await bob.patch(f"/api/v1/users/{ann['id']}", json={"name": "Hacked"}, headers={"Origin": ORIGIN})
        assert refused.status_code == 403
        assert (await service.platform.get(f"/api/v1/users/{ann['id']}")).json()["name"] == "Ann"


async def test_the_last_active_admin_cannot_be_demoted_or_disabled(clean_database):
    async with serving(oncall(clean_database)) as service:
        root = await service.user("Root", role="admin")
        session = await service.signed_in("root@example.com")
        path = f"/api/v1/users/{root['id']}"
        for change in ({"role": "responder"}, {"disabled": True}):
            refused = await session.patch(path, json=change, headers={"Origin": ORIGIN})
            assert refused.status_code == 409, refused.text
            assert "last active admin" in refused.json()["detail"]
        assert (await session.get(ME)).json()["role"] == "admin"


async def test_two_admins_demoting_each_other_at_once_leave_one_admin(clean_database):
    """The rule holds under concurrency: the requests race in a real server
    process, each in its own transaction, round after round."""
    env = {"DATABASE_URL": clean_database, "ENVIRONMENT": "test", "LOG_LEVEL": "WARNING"}
    with ServiceProcess("oncall_service", env) as process:
        ann_id, ann = user_with_token(clean_database, "Ann", role="admin")
        bob_id, bob = user_with_token(clean_database, "Bob", role="admin")
        async with httpx.AsyncClient(base_url=process.url, timeout=10, headers=PLATFORM_HEADERS) as platform:
            for round_ in range(30):
                answers = await asyncio.gather(
                    platform.patch(f"/api/v1/users/{bob_id}", json={"role": "responder"}, headers=ann),
                    platform.patch(f"/api/v1/users/{ann_id}", json={"role": "responder"}, headers=bob),
                )
                admins = sql(clean_database, "SELECT count(*) FROM users WHERE role = 'admin' AND NOT disabled")
                assert admins == [(1,)], f"round {round_}: {[a.status_code for a in answers]}"
                # The other is refused: the last admin (409), or no longer an admin by the time it is checked (403).
                first, second = sorted(a.status_code for a in answers)
                assert first == 200 and second in (403, 409), [a.text for a in answers]
                # Both admins again, through the API (which also drops the process's cached roles).
                for user_id in (ann_id, bob_id):
                    promoted = await platform.patch(f"/api/v1/users/{user_id}", json={"role": "admin"})
                    assert promoted.status_code == 200, promoted.text
