"""Fixtures of incident-management's tests: the app on a real database, with a
manual clock, beside small real HTTP servers standing in for oncall-service and
notification-service (serving the agreed shapes, recording calls, and able to
go down and come back). The stand-ins are held to the real services' OpenAPI
documents: a request incident-management sends them, an answer they give, or a
delivery report they push that the document refuses fails the test."""

import threading
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
import uvicorn
from fastapi import FastAPI, Query, Request
from fastapi.responses import JSONResponse

from incident_management.config import Settings
from incident_management.main import create_app
from incident_management.workers.engine import IncidentEngine
from incident_management.workers.report import CycleReport
from platform_common.clock import ManualClock
from platform_testing import as_service, free_port, running_app, user_with_token
from platform_testing.contract import Contract, ContractCheck

START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


class FakeServer:
    """A real uvicorn server on a free port, in its own thread; stop() and start()
    again on the same port to simulate an outage."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.port = free_port()
        self.server: uvicorn.Server | None = None
        self.thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def running(self) -> bool:
        return self.thread is not None and self.thread.is_alive()

    def start(self) -> None:
        config = uvicorn.Config(self.app, host="127.0.0.1", port=self.port, log_level="warning", lifespan="off")
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)
        self.thread.start()
        deadline = time.monotonic() + 10
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("fake server did not start")
            time.sleep(0.01)

    def stop(self) -> None:
        if self.server and self.thread:
            self.server.should_exit = True
            self.thread.join(10)
            self.thread = None


class Phones:
    """Webhook receiver standing in for the responders' phones: one path per
    responder; keeps every page's body in the order it rang."""

    def __init__(self) -> None:
        self.received: list[tuple[str, dict[str, Any]]] = []
        app = FastAPI()

        @app.get("/health")
        async def health() -> dict[str, str]:
            return {"status": "ok"}

        @app.post("/hook/{who}")
        async def hook(who: str, request: Request) -> dict[str, str]:
            self.received.append((who, await request.json()))
            return {"ok": "yes"}

        self.server = FakeServer(app)

    def who(self, title: str | None = None, *, events: tuple[str, ...] = ("triggered", "escalated")) -> list[str]:
        """Who was paged, in order (about the incident titled `title` only, when given); with
        `events`, who was told of those (the notices of an acknowledgement, say)."""
        return [
            who
            for who, page in self.received
            if page["event"] in events and (title is None or page["incident"]["title"] == title)
        ]

    def messages(self) -> list[tuple[str, str]]:
        """(who, the page's reason) of each page in the order they rang; notices left out."""
        return [
            (who, page.get("message") or "")
            for who, page in self.received
            if page.get("event") in ("triggered", "escalated")
        ]


# The tests name people ("alice"); oncall-service knows them by UUID, as here.
NAMES: dict[str, str] = {}


def _is_uuid(value: str) -> bool:
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return True


def uid(name: str) -> str:
    """The user id of the person the tests call `name` (the same in every test);
    a test that made a real user (user_with_token) names them by their id."""
    if _is_uuid(name):
        return name
    user_id = str(uuid.uuid5(uuid.NAMESPACE_DNS, f"{name}.users.example.com"))
    NAMES[user_id] = name
    return user_id


def person(name: str) -> dict[str, Any]:
    """A user as oncall-service's on-call answer names them: with contact methods and mutes."""
    return {
        "id": uid(name),
        "name": name.title(),
        "email": f"{name}@example.com",
        "contact_methods": [{"id": str(uuid.uuid4()), "type": "email", "address": f"{name}@example.com"}],
        "muted_channels": [],
        "muted_severities": ["info"],
        "notification_rules": [],
    }


def user_record(name: str) -> dict[str, Any]:
    """A user as `GET /api/v1/users/{id}` answers them: no notification rules (those
    are at `/notification-rules`, and in the on-call answer)."""
    stamps = {"created_at": START.isoformat(), "updated_at": START.isoformat()}
    profile = {key: value for key, value in person(name).items() if key != "notification_rules"}
    return {**profile, "timezone": "UTC", "role": "responder", "disabled": False, **stamps}


class FakeOncall:
    """oncall-service's `GET /api/v1/oncall/current` for configured services, and its users."""

    def __init__(self) -> None:
        self.answers: dict[str, dict[str, Any]] = {}
        # A user's steps by urgency as `GET /api/v1/users/{id}/notification-rules` answers
        # them (user id -> {"high": [...], "low": [...]}); nobody has any unless set.
        self.rules: dict[str, dict[str, list[dict[str, Any]]]] = {}
        self.calls: list[dict[str, str]] = []
        app = FastAPI()

        @app.get("/health")
        async def health() -> dict[str, str]:
            return {"status": "ok"}

        @app.get("/api/v1/oncall/current")
        async def current(
            service: str | None = None, team: str | None = None, at: str | None = Query(None)
        ) -> JSONResponse:
            self.calls.append({"service": service or "", "team": team or "", "at": at or ""})
            answer = self.answers.get(service or "") or self.answers.get(f"team:{team}")
            if answer is None:
                return JSONResponse({"detail": "unknown service"}, status_code=404)
            return JSONResponse(answer)

        @app.get("/api/v1/users/{user_id}")
        async def user(user_id: str) -> JSONResponse:
            # A person the tests name, or a real user a test made (user_with_token), known by their id.
            name = NAMES.get(user_id) or (user_id if _is_uuid(user_id) else None)
            self.calls.append({"user": name or user_id})
            if name is None:
                return JSONResponse({"detail": f"user {user_id} not found"}, status_code=404)
            return JSONResponse(user_record(name))

        @app.get("/api/v1/users/{user_id}/notification-rules")
        async def notification_rules(user_id: str) -> JSONResponse:
            steps = self.rules.get(user_id, {})
            return JSONResponse({"user_id": user_id, "high": steps.get("high", []), "low": steps.get("low", [])})

        self.contract = ContractCheck(app, Contract.of("oncall-service"))
        self.server = FakeServer(self.contract)

    def reset(self) -> None:
        self.answers.clear()
        self.rules.clear()
        self.calls.clear()
        self.contract.problems.clear()
        if not self.server.running:
            self.server.start()

    def configure(
        self,
        service: str,
        *,
        levels: list[tuple[float, list[str]]],
        repeat_count: int = 0,
        primary: str | None = None,
        acknowledgement_timeout_minutes: int | None = None,
    ) -> None:
        """`levels`: (delay_minutes, user ids) per level; primary defaults to level 0's first user."""
        chain = [
            {
                "level": index,
                "delay_minutes": delay,
                "targets": [{"type": "user", "id": uid(u), "name": u.title()} for u in users],
                "users": [person(u) for u in users],
            }
            for index, (delay, users) in enumerate(levels)
        ]
        first = primary or (levels[0][1][0] if levels and levels[0][1] else None)
        self.answers[service] = {
            "at": START.isoformat(),
            "service": {"id": str(uuid.uuid4()), "name": service, "high_urgency_severities": ["critical", "high"]},
            "team": {"id": str(uuid.uuid4()), "name": f"{service}-team"},
            "escalation_policy": {"id": str(uuid.uuid4()), "name": f"{service} policy", "repeat_count": repeat_count}
            if levels
            else None,
            "primary": person(first) if first else None,
            "escalation_chain": chain,
            "acknowledgement_timeout_minutes": acknowledgement_timeout_minutes,
        }


def target_of(user_id: str, channel: str) -> str:
    """Where the fake delivers a user's page on `channel`: an email address, or a
    Slack incoming-webhook URL, which carries its credential as Slack's do."""
    if channel == "slack":
        return f"https://hooks.slack.com/services/T000/B000/{user_id}-s3cr3t"
    return f"{user_id}@example.com"


class FakeNotifications:
    """notification-service's `POST /api/v1/notify/batch` (idempotent on each item's key); `results` are
    the reports it would push to each page's callback URL (see Harness.settle)."""

    def __init__(self) -> None:
        self.requests: list[dict[str, Any]] = []
        self.batches: list[int] = []  # items in each POST, in order
        self.by_key: dict[str, list[dict[str, Any]]] = {}
        self.deliveries: dict[str, dict[str, Any]] = {}
        self.reject = False
        app = FastAPI()

        @app.get("/health")
        async def health() -> dict[str, str]:
            return {"status": "ok"}

        @app.post("/api/v1/notify/batch")
        async def notify_batch(request: Request) -> JSONResponse:
            body = await request.json()
            self.batches.append(len(body["items"]))
            return JSONResponse({"results": [self._notify(item) for item in body["items"]]})

        self.contract = ContractCheck(app, Contract.of("notification-service"))
        # What the reports pushed to incident-management's callback URL must look like.
        self.callback_contract = Contract.of("incident-management")
        self.server = FakeServer(self.contract)

    def _notify(self, body: dict[str, Any]) -> dict[str, Any]:
        """One item of a batch, answered as notification-service does."""
        self.requests.append(body)
        if self.reject:
            return {"status_code": 422, "detail": "unknown user"}
        key = body.get("idempotency_key")
        if key in self.by_key:
            repeated = {"idempotency_key": key, "duplicate": True, "notifications": self.by_key[key]}
            return {"status_code": 200, "accepted": {"status": "accepted", **repeated}}
        created = []
        for channel in ("email", "slack"):
            delivery = {
                "id": str(uuid.uuid4()),
                "idempotency_key": key,
                "incident_id": body["incident"]["id"],
                "event": body["event"],
                "recipient": body["user_id"],
                "channel": channel,
                "target": target_of(body["user_id"], channel),
                "status": "pending",
                "attempts": 0,
                "last_error": None,
                "callback_url": body.get("callback_url"),
            }
            self.deliveries[delivery["id"]] = delivery
            answered = ("id", "channel", "target", "recipient", "status", "last_error")
            created.append({k: delivery[k] for k in answered})
        self.by_key[key] = created
        accepted = {"status": "accepted", "idempotency_key": key, "duplicate": False, "notifications": created}
        return {"status_code": 202, "accepted": accepted}

    def reset(self) -> None:
        self.requests.clear()
        self.batches.clear()
        self.contract.problems.clear()
        self.by_key.clear()
        self.deliveries.clear()
        self.reject = False
        if not self.server.running:
            self.server.start()

    def keys(self) -> list[str]:
        """Idempotency keys of every POST received, repeats included."""
        return [r["idempotency_key"] for r in self.requests]

    def recipients(self, event: str | None = None) -> list[str]:
        """Who was paged (by the tests' names for them), in order, repeats included."""
        return [NAMES.get(r["user_id"], r["user_id"]) for r in self.requests if event is None or r["event"] == event]

    def settle(self, status: str, error: str | None = None, **match: str) -> list[dict[str, Any]]:
        """Finish every delivery matching `match` (e.g. recipient="alice") with `status`;
        returns the reports notification-service would push."""
        if "recipient" in match:
            match["recipient"] = uid(match["recipient"])
        reports = []
        for delivery in self.deliveries.values():
            if all(delivery.get(key) == value for key, value in match.items()):
                delivery["status"] = status
                delivery["last_error"] = error
                body = {
                    "notification_id": delivery["id"],
                    "idempotency_key": delivery["idempotency_key"],
                    "channel": delivery["channel"],
                    "target": delivery["target"],
                    "status": status,
                    "error": error,
                }
                url = urlsplit(delivery["callback_url"])
                self.contract.problems += self.callback_contract.request_problems("POST", url.path, url.query, body)
                reports.append({"url": delivery["callback_url"], "body": body})
        return reports


@pytest.fixture(scope="session")
def _fake_servers() -> Iterator[tuple[FakeOncall, FakeNotifications]]:
    oncall, notifications = FakeOncall(), FakeNotifications()
    oncall.server.start()
    notifications.server.start()
    yield oncall, notifications
    oncall.server.stop()
    notifications.server.stop()


@pytest.fixture
def oncall(_fake_servers: tuple[FakeOncall, FakeNotifications]) -> Iterator[FakeOncall]:
    fake = _fake_servers[0]
    fake.reset()
    yield fake
    assert not fake.contract.problems, "oncall-service's document refuses:\n" + "\n".join(fake.contract.problems)


@pytest.fixture
def notifier(_fake_servers: tuple[FakeOncall, FakeNotifications]) -> Iterator[FakeNotifications]:
    fake = _fake_servers[1]
    fake.reset()
    yield fake
    problems = fake.contract.problems
    assert not problems, "notification-service's or incident-management's document refuses:\n" + "\n".join(problems)


@dataclass
class Harness:
    client: httpx.AsyncClient
    app: FastAPI
    clock: ManualClock
    oncall: FakeOncall
    notifier: FakeNotifications
    database_url: str

    @property
    def engine(self) -> IncidentEngine:
        return self.app.state.engine

    async def tick(self, **advance: float) -> CycleReport:
        """Move the manual clock forward (timedelta keywords), then run one loop cycle."""
        if advance:
            self.clock.advance(timedelta(**advance))
        return await self.engine.run_once()

    async def create(self, *, actor: str | None = None, **fields: Any) -> dict[str, Any]:
        """Open an incident (as the platform, or as the responder `actor`), then let
        the engine assign it as its wake-up would (assignment only: pages go out
        on the next tick), and return it."""
        body = {"title": "Checkout errors", "service": "payments", "severity": "high", **fields}
        response = await self.client.post("/api/v1/incidents", json=body, headers=self.as_user(actor))
        assert response.status_code in (200, 201), response.text
        await self.engine.assign_due(CycleReport())
        return await self.detail(response.json()["id"])

    async def patch(self, incident_id: str, *, actor: str | None = None, **fields: Any) -> httpx.Response:
        """PATCH as the platform, or as the responder named `actor` (a user made for it)."""
        return await self.client.patch(f"/api/v1/incidents/{incident_id}", json=fields, headers=self.as_user(actor))

    def user_id(self, name: str) -> uuid.UUID:
        """The id of the user `as_user(name)` acts as."""
        return user_with_token(self.database_url, name)[0]

    def as_user(self, name: str | None) -> dict[str, str]:
        """The headers of a request made by the responder `name` (None: the platform)."""
        if name is None:
            return {}
        return user_with_token(self.database_url, name)[1]

    async def detail(self, incident_id: str) -> dict[str, Any]:
        response = await self.client.get(f"/api/v1/incidents/{incident_id}")
        assert response.status_code == 200, response.text
        return response.json()

    async def settle(self, status: str, error: str | None = None, **match: str) -> list[httpx.Response]:
        """notification-service finishes the matching deliveries and pushes each result to
        the callback URL the page gave (its path, here, on the in-process app)."""
        answers = []
        for report in self.notifier.settle(status, error, **match):
            answers.append(await self.client.post(urlsplit(report["url"]).path, json=report["body"]))
        return answers

    async def events(self, incident_id: str) -> list[str]:
        return [entry["event_type"] for entry in (await self.detail(incident_id))["timeline"]]


def make_settings(database_url: str, oncall_url: str, notification_url: str, **overrides: Any) -> Settings:
    return Settings(
        database_url=as_service(database_url, "incident_management"),
        environment="test",
        oncall_service_url=oncall_url,
        notification_service_url=notification_url,
        incident_worker_enabled=False,
        # Tests run the retention's cycles themselves (test_retention.py).
        incident_timeline_retention_enabled=False,
        http_timeout_seconds=2.0,
        readiness_interval_seconds=3600,
        **overrides,
    )


@pytest.fixture
async def harness(clean_database: str, oncall: FakeOncall, notifier: FakeNotifications) -> AsyncIterator[Harness]:
    clock = ManualClock(START)
    app = create_app(make_settings(clean_database, oncall.server.url, notifier.server.url), clock=clock)
    async with running_app(app) as client:
        yield Harness(client, app, clock, oncall, notifier, clean_database)
