"""The one-click acknowledge/resolve links in pages, end to end on a real database.

A page's link carries a token signed with LINK_SIGNING_KEY (itsdangerous, HMAC
SHA-256), bound to one incident, one user and one action, expiring after
LINK_TTL_HOURS and usable once. `GET /api/v1/incidents/links/{token}` says what
it would do; `POST` does it, as the link's user. These tests hold the real
incident-management app (and, for the page itself, the real notification-service)
to that: what a link may do, and every way one is refused.
"""

import asyncio
import hashlib
import json
import re
import threading
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import psycopg
import pytest
import uvicorn
from itsdangerous import TimestampSigner, URLSafeTimedSerializer

from incident_management.config import Settings as IncidentSettings
from incident_management.domain.links import SALT, LinkInvalid, LinkSigner
from incident_management.main import create_app as create_incident_app
from incident_management.workers.report import CycleReport
from notification_service.config import Settings as NotificationSettings
from notification_service.domain.messages import message_context, slack_payload
from notification_service.main import create_app as create_notification_app
from notification_service.rendering import Renderer
from platform_testing import PLATFORM_HEADERS, as_service, free_port, running_app, user_with_token

KEY = "signed-links-test-key-0123456789abcdef"
UI_BASE_URL = "https://pager.example.com"
LINKS = "/api/v1/incidents/links"


def incident_settings(database_url: str, **overrides: Any) -> IncidentSettings:
    """incident-management on this run's database with a known LINK_SIGNING_KEY; the
    services it calls are on a closed port unless given, and no background loop runs."""
    nowhere = f"http://127.0.0.1:{free_port()}"
    fields: dict[str, Any] = {
        "database_url": as_service(database_url, "incident_management"),
        "environment": "test",
        "oncall_service_url": nowhere,
        "notification_service_url": nowhere,
        "incident_worker_enabled": False,
        "http_timeout_seconds": 2.0,
        "readiness_interval_seconds": 3600,
        "link_signing_key": KEY,
        "ui_base_url": UI_BASE_URL,
        **overrides,
    }
    return IncidentSettings(**fields)


@dataclass
class Platform:
    """The running incident-management app: a client with no credential at all (the
    phone that is not signed in: whoever holds a link has nothing but the link), and
    its link signer. Setup and checks are made as the platform."""

    client: httpx.AsyncClient
    signer: LinkSigner
    database_url: str

    async def open_incident(self, title: str = "Checkout errors") -> str:
        response = await self.client.post(
            "/api/v1/incidents",
            json={"title": title, "service": "payments", "severity": "high"},
            headers=PLATFORM_HEADERS,
        )
        assert response.status_code == 201, response.text
        return response.json()["id"]

    async def detail(self, incident_id: str) -> dict[str, Any]:
        response = await self.client.get(f"/api/v1/incidents/{incident_id}", headers=PLATFORM_HEADERS)
        assert response.status_code == 200, response.text
        return response.json()

    def user(self, name: str, role: str = "responder") -> uuid.UUID:
        return user_with_token(self.database_url, name, role=role)[0]

    def link(self, incident_id: str, user_id: uuid.UUID, name: str, action: str) -> str:
        return self.signer.make(incident_id=uuid.UUID(incident_id), user_id=user_id, user_name=name, action=action)  # type: ignore[arg-type]

    async def preview(self, token: str, **kwargs: Any) -> httpx.Response:
        return await self.client.get(f"{LINKS}/{token}", **kwargs)

    async def use(self, token: str, **kwargs: Any) -> httpx.Response:
        return await self.client.post(f"{LINKS}/{token}", **kwargs)


@pytest.fixture
async def platform(clean_database: str) -> AsyncIterator[Platform]:
    app = create_incident_app(incident_settings(clean_database))
    async with running_app(app, as_platform=False) as client:
        yield Platform(client, app.state.link_signer, clean_database)


def snapshot(incident: dict[str, Any]) -> tuple[Any, ...]:
    """The parts of an incident a link may change (and the timeline's length)."""
    return (
        incident["status"],
        incident["version"],
        incident["acknowledged_at"],
        incident["resolved_at"],
        len(incident["timeline"]),
    )


def past_signer(key: str, age: timedelta) -> URLSafeTimedSerializer:
    """A serializer made exactly like LinkSigner's (same salt, SHA-256) whose clock
    stands `age` in the past: its tokens are as old as a page sent back then."""

    class Earlier(TimestampSigner):
        def get_timestamp(self) -> int:
            return int(time.time() - age.total_seconds())

    return URLSafeTimedSerializer(key, salt=SALT, signer=Earlier, signer_kwargs={"digest_method": hashlib.sha256})


def signed_payload(serializer: URLSafeTimedSerializer, **payload: Any) -> str:
    return str(serializer.dumps(payload))


def payload_of(incident_id: str, user_id: uuid.UUID, name: str, action: str) -> dict[str, Any]:
    return {"i": incident_id, "u": str(user_id), "n": name, "a": action, "k": uuid.uuid4().hex}


# 1. Preview and use of an acknowledge link


async def test_previewing_an_acknowledge_link_says_what_and_for_whom_and_changes_nothing(platform):
    incident_id = await platform.open_incident()
    alice = platform.user("Alice")
    token = platform.link(incident_id, alice, "Alice", "acknowledge")
    before = snapshot(await platform.detail(incident_id))

    response = await platform.client.get(f"{LINKS}/{token}")
    again = await platform.client.get(f"{LINKS}/{token}")  # a link-preview bot fetching it twice

    assert response.status_code == 200, response.text
    preview = response.json()
    assert preview["action"] == "acknowledge"
    assert preview["user"] == {"id": str(alice), "name": "Alice"}
    assert preview["incident"]["id"] == incident_id
    assert preview["incident"]["status"] == "open"
    assert preview["usable"] is True
    assert preview["reason"] is None
    assert preview["used"] is None
    expires = datetime.fromisoformat(preview["expires_at"])
    assert timedelta(hours=23) < expires - datetime.now(UTC) <= timedelta(hours=24, minutes=1)
    assert again.status_code == 200
    assert again.json()["usable"] is True
    assert snapshot(await platform.detail(incident_id)) == before


async def test_using_an_acknowledge_link_acknowledges_as_the_links_user_in_the_timeline(platform):
    incident_id = await platform.open_incident()
    alice = platform.user("Alice")
    token = platform.link(incident_id, alice, "Alice", "acknowledge")

    response = await platform.client.post(f"{LINKS}/{token}")

    assert response.status_code == 200, response.text
    assert response.json()["status"] == "acknowledged"
    detail = await platform.detail(incident_id)
    assert detail["status"] == "acknowledged"
    assert detail["acknowledged_at"] is not None
    entry = [e for e in detail["timeline"] if e["event_type"] == "acknowledged"]
    assert len(entry) == 1
    assert entry[0]["actor_id"] == str(alice), "the timeline names the user by id, not only a free-text name"
    assert entry[0]["actor"] == "Alice"
    # The use itself is remembered (the nonce), so the link is spent.
    with psycopg.connect(platform.database_url) as conn:
        uses = conn.execute(
            "SELECT incident_id, user_id, action FROM incident_link_uses WHERE incident_id = %s", (incident_id,)
        ).fetchall()
    assert uses == [(uuid.UUID(incident_id), alice, "acknowledge")]
    # Spent, the link says by whom and when, and shows the incident no more (a forwarded
    # email or a shared channel keeps it readable by everyone until it expires).
    preview = (await platform.client.get(f"{LINKS}/{token}")).json()
    assert preview["usable"] is False
    assert preview["reason"] == "This link was used already"
    assert preview["incident"] is None
    assert preview["incident_id"] == incident_id
    assert preview["used"]["by"] == {"id": str(alice), "name": "Alice"}
    assert datetime.fromisoformat(preview["used"]["at"]) == datetime.fromisoformat(entry[0]["created_at"])


# 2. A resolve link resolves


async def test_a_resolve_link_resolves_the_incident_as_its_user(platform):
    incident_id = await platform.open_incident()
    bob = platform.user("Bob")
    token = platform.link(incident_id, bob, "Bob", "resolve")

    preview = (await platform.client.get(f"{LINKS}/{token}")).json()
    response = await platform.client.post(f"{LINKS}/{token}")

    assert preview["action"] == "resolve"
    assert preview["usable"] is True
    assert response.status_code == 200, response.text
    detail = await platform.detail(incident_id)
    assert detail["status"] == "resolved"
    assert detail["resolved_at"] is not None
    resolved = [e for e in detail["timeline"] if e["event_type"] == "resolved"]
    assert [(e["actor"], e["actor_id"]) for e in resolved] == [("Bob", str(bob))]


async def test_a_resolve_link_also_resolves_an_acknowledged_incident(platform):
    incident_id = await platform.open_incident()
    bob = platform.user("Bob")
    await platform.use(platform.link(incident_id, bob, "Bob", "acknowledge"))
    response = await platform.use(platform.link(incident_id, bob, "Bob", "resolve"))
    assert response.status_code == 200, response.text
    assert (await platform.detail(incident_id))["status"] == "resolved"


# 3. A link acts once


@pytest.mark.parametrize(
    ("action", "message"),
    [
        ("acknowledge", "The incident is already acknowledged"),
        ("resolve", "The incident is already resolved; nothing left to do"),
    ],
)
async def test_using_the_same_link_twice_is_refused_with_409_and_changes_nothing(platform, action, message):
    incident_id = await platform.open_incident()
    alice = platform.user("Alice")
    token = platform.link(incident_id, alice, "Alice", action)

    first = await platform.client.post(f"{LINKS}/{token}")
    assert first.status_code == 200, first.text
    after_first = snapshot(await platform.detail(incident_id))
    second = await platform.client.post(f"{LINKS}/{token}")

    assert second.status_code == 409, second.text
    assert second.json()["detail"] == message
    assert snapshot(await platform.detail(incident_id)) == after_first


async def test_two_taps_at_once_act_once(platform):
    # The nonce is stored in the transaction of the change: of two racing uses one acts;
    # the other is refused, either as used (the nonce) or as already acknowledged.
    incident_id = await platform.open_incident()
    alice = platform.user("Alice")
    token = platform.link(incident_id, alice, "Alice", "acknowledge")

    answers = await asyncio.gather(*(platform.client.post(f"{LINKS}/{token}") for _ in range(4)))

    codes = sorted(a.status_code for a in answers)
    assert codes == [200, 409, 409, 409], [a.text for a in answers]
    for refused in (a for a in answers if a.status_code == 409):
        assert refused.json()["detail"] in ("This link was used already", "The incident is already acknowledged")
    detail = await platform.detail(incident_id)
    assert [e["event_type"] for e in detail["timeline"]].count("acknowledged") == 1
    with psycopg.connect(platform.database_url) as conn:
        count = conn.execute("SELECT count(*) FROM incident_link_uses").fetchone()[0]
    assert count == 1


# 4. Links expire


async def test_a_link_older_than_the_ttl_is_refused_as_expired(platform):
    incident_id = await platform.open_incident()
    alice = platform.user("Alice")
    before = snapshot(await platform.detail(incident_id))
    payload = payload_of(incident_id, alice, "Alice", "acknowledge")
    # A control made the same way but inside the 24 h: the construction matches LinkSigner's.
    recent = signed_payload(past_signer(KEY, timedelta(hours=23)), **payload)
    old = signed_payload(past_signer(KEY, timedelta(hours=25)), **payload)

    assert (await platform.client.get(f"{LINKS}/{recent}")).json()["usable"] is True
    looked = await platform.client.get(f"{LINKS}/{old}")
    used = await platform.client.post(f"{LINKS}/{old}")

    for response in (looked, used):
        assert response.status_code == 401, response.text
        assert response.json()["detail"] == "This link has expired; open the incident in the web UI instead"
    assert snapshot(await platform.detail(incident_id)) == before


async def test_link_ttl_hours_sets_how_long_a_link_lives(clean_database):
    # LINK_TTL_HOURS of one second: a link made now dies two seconds later.
    app = create_incident_app(incident_settings(clean_database, link_ttl_hours=1 / 3600))
    async with running_app(app) as client:
        created = await client.post("/api/v1/incidents", json={"title": "t", "service": "s", "severity": "low"})
        incident_id = created.json()["id"]
        alice = user_with_token(clean_database, "Alice")[0]
        token = app.state.link_signer.make(
            incident_id=uuid.UUID(incident_id), user_id=alice, user_name="Alice", action="acknowledge"
        )
        assert (await client.get(f"{LINKS}/{token}")).json()["usable"] is True
        await asyncio.sleep(2.2)
        response = await client.post(f"{LINKS}/{token}")
        assert response.status_code == 401
        assert "expired" in response.json()["detail"]
        assert (await client.get(f"/api/v1/incidents/{incident_id}")).json()["status"] == "open"


# 5. Altered tokens and other keys


def _alter(token: str, part: str) -> str:
    """Change one character of the token's payload, timestamp or signature. The
    middle of a part, not its end: the last base64 character of the signature
    carries padding bits, and changing only those would decode to the same bytes."""
    payload, stamp, signature = token.rsplit(".", 2)
    parts = {"payload": payload, "timestamp": stamp, "signature": signature}
    text = parts[part]
    at = len(text) // 2
    replacement = "A" if text[at] != "A" else "B"
    parts[part] = text[:at] + replacement + text[at + 1 :]
    return ".".join([parts["payload"], parts["timestamp"], parts["signature"]])


@pytest.mark.parametrize("part", ["payload", "timestamp", "signature"])
async def test_a_link_with_one_character_changed_is_refused(platform, part):
    incident_id = await platform.open_incident()
    alice = platform.user("Alice")
    token = _alter(platform.link(incident_id, alice, "Alice", "acknowledge"), part)
    before = snapshot(await platform.detail(incident_id))

    for response in (await platform.client.get(f"{LINKS}/{token}"), await platform.client.post(f"{LINKS}/{token}")):
        assert response.status_code == 401, response.text
        assert response.json()["detail"] == ("This link is not valid (it was changed or not made by this platform)")
    assert snapshot(await platform.detail(incident_id)) == before


async def test_a_link_signed_with_another_key_is_refused(platform):
    incident_id = await platform.open_incident()
    alice = platform.user("Alice")
    other = LinkSigner("another-platforms-key", ttl=timedelta(hours=24))
    token = other.make(incident_id=uuid.UUID(incident_id), user_id=alice, user_name="Alice", action="resolve")

    looked = await platform.client.get(f"{LINKS}/{token}")
    used = await platform.client.post(f"{LINKS}/{token}")

    for response in (looked, used):
        assert response.status_code == 401, response.text
        assert "not valid" in response.json()["detail"]
    assert (await platform.detail(incident_id))["status"] == "open"


@pytest.mark.parametrize(
    "token",
    [
        "x",
        "a.b.c",
        "...",
        "." + "A" * 3000,
        "%00",
        "eyJpIjoiMSJ9.AAAAAA.AAAA",
        "\u00e9l\u00e8ve.x.y",
    ],
)
async def test_garbage_tokens_are_refused_and_never_a_500(platform, token):
    for method in ("GET", "POST"):
        response = await platform.client.request(method, f"{LINKS}/{token}")
        assert response.status_code in (401, 404), (method, response.status_code, response.text)
        assert response.status_code < 500


@pytest.mark.parametrize(
    "payload",
    [
        {"i": "not-a-uuid", "u": str(uuid.uuid4()), "n": "A", "a": "acknowledge", "k": "n1"},
        {"u": str(uuid.uuid4()), "n": "A", "a": "acknowledge", "k": "n2"},
        {"i": str(uuid.uuid4()), "u": str(uuid.uuid4()), "n": "A", "a": "delete", "k": "n3"},
        {"i": str(uuid.uuid4()), "u": str(uuid.uuid4()), "n": "A", "a": None, "k": "n4"},
    ],
    ids=["bad-incident-id", "no-incident", "unknown-action", "no-action"],
)
async def test_a_correctly_signed_token_with_a_broken_payload_is_refused_not_a_500(platform, payload):
    # Signed with the real key (so only the payload is wrong): a token of another
    # version of the platform, or a bug in making one, is a plain 401 too.
    incident_id = await platform.open_incident()
    if "i" in payload and payload["i"] != "not-a-uuid":
        payload = {**payload, "i": incident_id}
    token = signed_payload(past_signer(KEY, timedelta(0)), **payload)

    for method in ("GET", "POST"):
        response = await platform.client.request(method, f"{LINKS}/{token}")
        assert response.status_code == 401, (method, response.text)
        assert response.json()["detail"] == "This link is not valid"
    assert (await platform.detail(incident_id))["status"] == "open"


def test_the_signer_refuses_what_it_did_not_sign():
    signer = LinkSigner(KEY, ttl=timedelta(hours=24))
    token = signer.make(incident_id=uuid.uuid4(), user_id=uuid.uuid4(), user_name="A", action="acknowledge")
    assert signer.read(token).action == "acknowledge"
    with pytest.raises(LinkInvalid, match="not valid"):
        LinkSigner("other", ttl=timedelta(hours=24)).read(token)
    with pytest.raises(LinkInvalid, match="not valid"):
        signer.read(_alter(token, "signature"))


# 6. Bound to one incident and one user


async def test_the_signed_payload_names_incident_user_and_action(platform):
    incident_id = await platform.open_incident()
    alice = platform.user("Alice")
    token = platform.link(incident_id, alice, "Alice", "resolve")
    claim = platform.signer.read(token)
    assert (claim.incident_id, claim.user_id, claim.user_name, claim.action) == (
        uuid.UUID(incident_id),
        alice,
        "Alice",
        "resolve",
    )
    # And it is readable by anyone (signed, not encrypted): no secret is in it.
    payload = URLSafeTimedSerializer("any").load_payload(token.rsplit(".", 2)[0].encode())
    assert payload["i"] == incident_id
    assert payload["u"] == str(alice)
    assert payload["a"] == "resolve"
    assert KEY not in json.dumps(payload)


async def test_a_link_for_one_incident_does_not_act_on_another(platform):
    mine = await platform.open_incident("Mine")
    other = await platform.open_incident("Other")
    alice = platform.user("Alice")
    token = platform.link(mine, alice, "Alice", "resolve")
    other_before = snapshot(await platform.detail(other))

    # Swap the incident inside the token, keeping its signature: refused as altered.
    serializer = URLSafeTimedSerializer("any")
    payload_part, stamp, signature = token.rsplit(".", 2)
    payload = serializer.load_payload(payload_part.encode())
    forged_payload = serializer.dump_payload({**payload, "i": other}).decode()
    forged = f"{forged_payload}.{stamp}.{signature}"
    assert forged != token

    for method in ("GET", "POST"):
        response = await platform.client.request(method, f"{LINKS}/{forged}")
        assert response.status_code == 401, response.text
        assert "not valid" in response.json()["detail"]
    assert snapshot(await platform.detail(other)) == other_before
    # The genuine token acts on its own incident only.
    assert (await platform.client.post(f"{LINKS}/{token}")).status_code == 200

    assert (await platform.detail(mine))["status"] == "resolved"
    assert snapshot(await platform.detail(other)) == other_before


async def test_a_link_cannot_be_rebound_to_another_user(platform):
    incident_id = await platform.open_incident()
    alice, mallory = platform.user("Alice"), platform.user("Mallory")
    token = platform.link(incident_id, alice, "Alice", "acknowledge")
    serializer = URLSafeTimedSerializer("any")
    payload_part, stamp, signature = token.rsplit(".", 2)
    payload = serializer.load_payload(payload_part.encode())
    forged_payload = serializer.dump_payload({**payload, "u": str(mallory), "n": "Mallory"}).decode()

    response = await platform.client.post(f"{LINKS}/{forged_payload}.{stamp}.{signature}")
    assert response.status_code == 401
    assert (await platform.detail(incident_id))["status"] == "open"


async def test_a_signed_in_user_using_someone_elses_link_acts_as_the_links_user(platform):
    # The documented rule (SIGNED_LINK, platform_common.auth): the token is the only
    # credential these routes look at; a session or API token beside it is ignored,
    # so Bob tapping Alice's link acknowledges as Alice, never as Bob.
    incident_id = await platform.open_incident()
    alice = platform.user("Alice")
    bob, bob_headers = user_with_token(platform.database_url, "Bob")
    token = platform.link(incident_id, alice, "Alice", "acknowledge")

    preview = await platform.client.get(f"{LINKS}/{token}", headers=bob_headers)
    response = await platform.client.post(f"{LINKS}/{token}", headers=bob_headers)

    assert preview.json()["user"] == {"id": str(alice), "name": "Alice"}
    assert response.status_code == 200, response.text
    entry = next(e for e in (await platform.detail(incident_id))["timeline"] if e["event_type"] == "acknowledged")
    assert (entry["actor"], entry["actor_id"]) == ("Alice", str(alice))
    assert entry["actor_id"] != str(bob)


async def test_a_link_needs_no_login_and_a_bad_credential_beside_it_does_not_matter(platform):
    incident_id = await platform.open_incident()
    alice = platform.user("Alice")
    token = platform.link(incident_id, alice, "Alice", "acknowledge")
    response = await platform.client.post(f"{LINKS}/{token}", headers={"Authorization": "Bearer ipt_revoked"})
    assert response.status_code == 200, response.text


# 7. Nothing left to do


async def test_an_acknowledge_link_for_an_incident_resolved_meanwhile_says_so_and_changes_nothing(platform):
    incident_id = await platform.open_incident()
    alice = platform.user("Alice")
    token = platform.link(incident_id, alice, "Alice", "acknowledge")
    resolved = await platform.client.patch(
        f"/api/v1/incidents/{incident_id}", json={"status": "resolved"}, headers=PLATFORM_HEADERS
    )
    assert resolved.status_code == 200, resolved.text
    before = snapshot(await platform.detail(incident_id))

    preview = (await platform.client.get(f"{LINKS}/{token}")).json()
    response = await platform.client.post(f"{LINKS}/{token}")

    assert preview["usable"] is False
    assert preview["reason"] == "The incident is already resolved; nothing left to do"
    assert (preview["incident"], preview["used"]) == (None, None), "a link that cannot act shows no incident"
    assert response.status_code == 409, response.text
    assert response.json()["detail"] == "The incident is already resolved; nothing left to do"
    assert response.json()["current_status"] == "resolved"
    assert snapshot(await platform.detail(incident_id)) == before
    with psycopg.connect(platform.database_url) as conn:
        assert conn.execute("SELECT count(*) FROM incident_link_uses").fetchone()[0] == 0


async def test_an_acknowledge_link_for_an_incident_someone_else_acknowledged_says_so(platform):
    incident_id = await platform.open_incident()
    alice, bob = platform.user("Alice"), platform.user("Bob")
    await platform.use(platform.link(incident_id, bob, "Bob", "acknowledge"))
    response = await platform.use(platform.link(incident_id, alice, "Alice", "acknowledge"))
    assert response.status_code == 409
    assert response.json()["detail"] == "The incident is already acknowledged"
    acks = [e for e in (await platform.detail(incident_id))["timeline"] if e["event_type"] == "acknowledged"]
    assert [e["actor_id"] for e in acks] == [str(bob)]


async def test_a_link_to_an_incident_that_does_not_exist_is_404(platform):
    alice = platform.user("Alice")
    token = platform.signer.make(incident_id=uuid.uuid4(), user_id=alice, user_name="Alice", action="resolve")
    for method in ("GET", "POST"):
        response = await platform.client.request(method, f"{LINKS}/{token}")
        assert response.status_code == 404
        assert response.json()["detail"] == "The incident of this link no longer exists"


# 8. Users disabled after the page went out


@pytest.mark.parametrize("change", ["disabled = true", "role = 'viewer'"], ids=["disabled", "made-viewer"])
async def test_a_link_of_a_user_who_may_no_longer_act_is_refused(platform, change):
    incident_id = await platform.open_incident()
    alice = platform.user("Alice")
    token = platform.link(incident_id, alice, "Alice", "acknowledge")
    with psycopg.connect(platform.database_url) as conn:
        conn.execute(f"UPDATE users SET {change} WHERE id = %s", (alice,))  # noqa: S608 - the test's own two values

    preview = (await platform.client.get(f"{LINKS}/{token}")).json()
    response = await platform.client.post(f"{LINKS}/{token}")

    assert preview["usable"] is False and "may no longer" in preview["reason"]
    assert preview["incident"] is None, "a revoked link shows no incident"
    assert response.status_code == 403, response.text
    assert "may no longer acknowledge or resolve" in response.json()["detail"]
    assert (await platform.detail(incident_id))["status"] == "open"


async def test_a_link_records_its_users_name_as_it_is_now(platform):
    incident_id = await platform.open_incident()
    alice = platform.user("Alice")
    token = platform.link(incident_id, alice, "Alice", "acknowledge")
    with psycopg.connect(platform.database_url) as conn:
        conn.execute("UPDATE users SET name = 'Alice Renamed' WHERE id = %s", (alice,))

    assert (await platform.client.post(f"{LINKS}/{token}")).status_code == 200
    entry = next(e for e in (await platform.detail(incident_id))["timeline"] if e["event_type"] == "acknowledged")
    assert (entry["actor"], entry["actor_id"]) == ("Alice Renamed", str(alice))


# 9. The links in a real page


class ServedApp:
    """A real app on a free port (uvicorn, lifespan on) in its own thread."""

    def __init__(self, app: Any) -> None:
        self.port = free_port()
        config = uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="warning", lifespan="on")
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> "ServedApp":
        self.thread.start()
        deadline = time.monotonic() + 20
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("notification-service did not start")
            time.sleep(0.02)
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(20)


@pytest.fixture
def notification_service(clean_database: str) -> Iterator[ServedApp]:
    settings = NotificationSettings(
        database_url=as_service(clean_database, "notification_service"),
        environment="test",
        oncall_service_url=f"http://127.0.0.1:{free_port()}",
        notification_worker_enabled=False,
        notification_webhook_secret="test-webhook-secret",
        readiness_interval_seconds=3600,
        ui_base_url=UI_BASE_URL + "/",
    )
    with ServedApp(create_notification_app(settings)) as served:
        yield served


ACT_URL = re.compile(re.escape(UI_BASE_URL) + r"/act/([A-Za-z0-9_.\-]+)")


async def test_the_links_in_a_real_page_point_at_the_ui_and_verify_for_that_incident_user_and_action(
    clean_database, notification_service
):
    # incident-management's page outbox sends a page to the real notification-service,
    # which stores it; its Slack and email messages are built from what it stored,
    # as its delivery worker does. The buttons' URLs are then followed back.
    settings = incident_settings(clean_database, notification_service_url=notification_service.url)
    app = create_incident_app(settings)
    async with running_app(app) as client:
        incident_id = (
            await client.post("/api/v1/incidents", json={"title": "DB down", "service": "db", "severity": "critical"})
        ).json()["id"]
        alice = user_with_token(clean_database, "Alice")[0]
        contact = {
            "name": "Alice",
            "contact_methods": [
                {"type": "email", "address": "alice@example.com"},
                {"type": "slack", "address": "https://hooks.slack.com/services/T0/B0/secret"},
            ],
            "muted_channels": [],
            "muted_severities": [],
        }
        with psycopg.connect(clean_database) as conn:
            conn.execute(
                "INSERT INTO incident_pages (id, incident_id, step_key, recipient, event, idempotency_key,"
                " status, next_attempt_at, contact) VALUES (gen_random_uuid(), %s, 'assigned-test', %s,"
                " 'triggered', %s, 'pending', now() - interval '1 minute', %s)",
                (incident_id, str(alice), f"page-{uuid.uuid4()}", json.dumps(contact)),
            )
        report = CycleReport()
        await app.state.engine.outbox.send_pages(report)
        assert not report.errors, report.errors

        with psycopg.connect(clean_database) as conn:
            rows = conn.execute(
                "SELECT channel, recipient, event, payload FROM notifications WHERE incident_id = %s ORDER BY channel",
                (incident_id,),
            ).fetchall()
        assert [r[0] for r in rows] == ["email", "slack"], rows
        renderer = Renderer()
        found: dict[str, set[str]] = {}
        for channel, recipient, event, payload in rows:
            context = message_context(
                notification_id=str(uuid.uuid4()),
                event=event,
                incident=payload["incident"],
                message=payload.get("message"),
                recipient=recipient,
                ui_base_url=UI_BASE_URL + "/",
                actions=payload.get("actions"),
            )
            if channel == "slack":
                buttons = slack_payload(context, renderer.render("slack", event, "txt", context))["blocks"][-1]
                urls = {b["text"]["text"]: b["url"] for b in buttons["elements"]}
                found["slack-acknowledge"] = {urls["Acknowledge"]}
                found["slack-resolve"] = {urls["Resolve"]}
                assert urls["Open incident"] == f"{UI_BASE_URL}/incidents/{incident_id}"
            else:
                html = renderer.render("email", event, "html", context)
                text = renderer.render("email", event, "txt", context)
                ack = re.search(r'href="([^"]+)">Acknowledge<', html)
                res = re.search(r'href="([^"]+)">Resolve<', html)
                assert ack and res, html
                found["email-acknowledge"] = {ack.group(1)}
                found["email-resolve"] = {res.group(1)}
                assert ack.group(1) in text and res.group(1) in text

        tokens: dict[str, str] = {}
        for where, urls in found.items():
            (url,) = urls
            match = ACT_URL.fullmatch(url)
            assert match, f"{where}: {url} is not the UI's confirmation page"
            claim = app.state.link_signer.read(match.group(1))
            action = where.split("-")[1]
            assert (claim.incident_id, claim.user_id, claim.user_name, claim.action) == (
                uuid.UUID(incident_id),
                alice,
                "Alice",
                action,
            ), where
            tokens[where] = match.group(1)
        # The email's and Slack's links are the same page's links (one pair per page).
        assert tokens["email-acknowledge"] == tokens["slack-acknowledge"]
        assert tokens["email-acknowledge"] != tokens["email-resolve"]

        # Followed back: the acknowledge button acknowledges as Alice.
        response = await client.post(f"{LINKS}/{tokens['slack-acknowledge']}")
        assert response.status_code == 200, response.text
        detail = (await client.get(f"/api/v1/incidents/{incident_id}")).json()
        entry = next(e for e in detail["timeline"] if e["event_type"] == "acknowledged")
        assert (entry["actor"], entry["actor_id"]) == ("Alice", str(alice))
