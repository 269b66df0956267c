"""Real local counterparts for the tests: an HTTP receiver (webhook, Slack and
result reports), an SMTP server (aiosmtpd), and the service itself, in-process,
against the test database. No oncall-service: this service calls none."""

import asyncio
import json
import threading
import time
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest
from aiosmtpd.controller import Controller

from notification_service.config import Settings
from notification_service.main import create_app
from platform_testing import as_service, free_port, running_app

TERMINAL = {"delivered", "failed", "suppressed"}


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes
    at: float

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class Receiver:
    """A real HTTP server on a free port. `script` is the status codes to answer
    in order (then 200); `hold` keeps requests open until it is set; `respond`
    gives a 2xx answer's body (JSON), "ok" without it."""

    server: ThreadingHTTPServer
    received: list[Received] = field(default_factory=list)
    script: list[int] = field(default_factory=list)
    headers_to_send: dict[str, str] = field(default_factory=dict)
    hold: threading.Event | None = None
    arrived: threading.Event = field(default_factory=threading.Event)
    respond: Callable[[Received], Any] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_port}"

    def wait_for(self, count: int, timeout: float = 10.0) -> list[Received]:
        deadline = time.monotonic() + timeout
        while len(self.received) < count and time.monotonic() < deadline:
            time.sleep(0.02)
        return self.received


def _start_server(handler_factory: Callable[..., type[BaseHTTPRequestHandler]], *args: Any) -> ThreadingHTTPServer:
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler_factory(*args), bind_and_activate=False)
    server.request_queue_size = 128  # a batch of concurrent deliveries must not overflow the backlog
    server.server_bind()
    server.server_activate()
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    return server


def _receiver_handler(receiver_box: list[Receiver]) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *_args: Any) -> None:
            pass

        def do_POST(self) -> None:
            receiver = receiver_box[0]
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            received = Received(self.path, dict(self.headers.items()), body, time.monotonic())
            receiver.received.append(received)
            receiver.arrived.set()
            if receiver.hold is not None:
                receiver.hold.wait(30)
            code = receiver.script.pop(0) if receiver.script else 200
            self.send_response(code)
            for name, value in receiver.headers_to_send.items():
                self.send_header(name, value)
            payload = b"ok" if code < 300 else b"receiver says no"
            if code < 300 and receiver.respond is not None:
                payload = json.dumps(receiver.respond(received)).encode()
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

    return Handler


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    box: list[Receiver] = []
    server = _start_server(_receiver_handler, box)
    box.append(Receiver(server))
    yield box[0]
    if box[0].hold is not None:
        box[0].hold.set()
    server.shutdown()
    server.server_close()


class MailHandler:
    """Accepts mail, except: `reject*@` gets 550 (no such user), `busy*@` gets 451 (try later)."""

    def __init__(self) -> None:
        self.messages: list[Any] = []

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str, rcpt_options: Any) -> str:  # noqa: N802
        if address.startswith("reject"):
            return "550 5.1.1 No such user here"
        if address.startswith("busy"):
            return "451 4.7.1 Greylisted, try again later"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        self.messages.append(envelope)
        return "250 Message accepted for delivery"


@dataclass
class Smtp:
    controller: Controller
    handler: MailHandler

    @property
    def port(self) -> int:
        return self.controller.port


@pytest.fixture
def smtp() -> Iterator[Smtp]:
    handler = MailHandler()
    controller = Controller(handler, hostname="127.0.0.1", port=free_port())
    controller.start()
    yield Smtp(controller, handler)
    controller.stop()


def service_settings(database_url: str, **overrides: Any) -> Settings:
    """Fast retries and polling so the tests take seconds, not minutes."""
    values: dict[str, Any] = {
        "environment": "test",
        "database_url": as_service(database_url, "notification_service"),
        "ui_base_url": "http://ui.test",
        "http_timeout_seconds": 2.0,
        "readiness_interval_seconds": 60.0,
        "notification_poll_seconds": 0.05,
        "notification_retry_base_seconds": 0.2,
        "notification_retry_max_seconds": 1.0,
        "notification_http_timeout_seconds": 2.0,
        "smtp_timeout_seconds": 2.0,
        "notification_lease_seconds": 5.0,
        "notification_max_attempts": 5,
        "notification_webhook_secret": "test-webhook-secret",
        "smtp_host": "127.0.0.1",
        "smtp_port": 1,
    }
    values.update(overrides)
    return Settings(**values)


@pytest.fixture
def settings_for(clean_database: str) -> Callable[..., Settings]:
    """Settings for the test database, with overrides."""

    def make(**overrides: Any) -> Settings:
        return service_settings(clean_database, **overrides)

    return make


@pytest.fixture
def make_client(settings_for: Callable[..., Settings]) -> Callable[..., Any]:
    """`async with make_client(**settings) as client:` the service in-process, worker running."""

    def make(**overrides: Any) -> Any:
        return running_app(create_app(settings_for(**overrides)))

    return make


@pytest.fixture
async def client(make_client: Callable[..., Any], smtp: Smtp) -> AsyncIterator[httpx.AsyncClient]:
    async with make_client(smtp_port=smtp.port) as http:
        yield http


async def wait_until_settled(client: httpx.AsyncClient, notification_id: str, within: float = 10.0) -> dict[str, Any]:
    """Poll the history until the notification is delivered, failed or suppressed."""
    deadline = time.monotonic() + within
    while True:
        body = (await client.get(f"/api/v1/notifications/{notification_id}")).json()
        if body["status"] in TERMINAL or time.monotonic() > deadline:
            return body
        await asyncio.sleep(0.05)


@pytest.fixture
def settled() -> Callable[..., Any]:
    return wait_until_settled


def incident(**overrides: Any) -> dict[str, Any]:
    body = {
        "id": "6f1c2a52-3b7e-4d55-9d0f-7f3f7b0c9a11",
        "title": "Checkout latency above 2s",
        "service": "checkout",
        "severity": "critical",
        "status": "open",
        "url": None,
    }
    body.update(overrides)
    return body


@pytest.fixture
def an_incident() -> Callable[..., dict[str, Any]]:
    return incident
