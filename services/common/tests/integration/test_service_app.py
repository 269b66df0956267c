"""The skeleton every service shares, exercised through HTTP with a real database."""

import gc
import json
import logging

import pytest
from asyncpg.exceptions import CannotConnectNowError, InvalidTextRepresentationError
from fastapi import APIRouter, Request
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy.exc import DBAPIError

from platform_common.app import create_service_app
from platform_common.errors import Conflict, TooManyRequests
from platform_common.settings import BaseServiceSettings
from platform_testing import INTERNAL_TOKEN, PLATFORM_HEADERS, free_port, running_app, user_with_token


class _Settings(BaseServiceSettings):
    service_name: str = "probe-service"
    port: int = 0
    environment: str = "test"


def _router() -> APIRouter:
    router = APIRouter()

    @router.get("/boom")
    async def boom() -> None:
        raise RuntimeError("secret internals: password=hunter2")

    @router.get("/conflict")
    async def conflict() -> None:
        raise Conflict("already acknowledged", current_status="acknowledged")

    @router.get("/slow-down")
    async def slow_down() -> None:
        raise TooManyRequests("rate limited", retry_after=6.2)

    @router.get("/starting-up")
    async def starting_up() -> None:
        # What SQLAlchemy raises when asyncpg connects to a PostgreSQL that is still starting.
        raise DBAPIError(None, None, CannotConnectNowError("the database system is starting up"))

    @router.get("/bad-text")
    async def bad_text() -> None:
        raise DBAPIError("SELECT", None, InvalidTextRepresentationError("invalid input syntax"))

    @router.post("/echo")
    async def echo(request: Request) -> dict[str, int]:
        return {"bytes": len(await request.body())}

    @router.get("/log")
    async def log_something() -> dict[str, bool]:
        logging.getLogger("probe").info("handled")
        return {"ok": True}

    return router


def _app(database_url: str, **overrides):
    settings = _Settings(database_url=database_url, **overrides)
    return create_service_app(settings, title="probe", description="probe", routers=[_router()])


async def test_liveness_and_readiness_with_database_up(database_url):
    async with running_app(_app(database_url)) as client:
        assert (await client.get("/health")).json() == {"status": "ok", "service": "probe-service"}
        ready = await client.get("/health/ready")
        assert ready.status_code == 200
        assert ready.json()["dependencies"]["database"]["status"] == "up"
        assert 'service_dependency_up{critical="true",dependency="database"} 1.0' in (await client.get("/metrics")).text


async def test_service_starts_and_reports_while_database_is_down():
    unreachable = f"postgresql://postgres@127.0.0.1:{free_port()}/nowhere"
    async with running_app(_app(unreachable)) as client:
        assert (await client.get("/health")).status_code == 200
        ready = await client.get("/health/ready")
        assert ready.status_code == 503
        assert ready.json()["status"] == "not_ready"
        assert ready.json()["dependencies"]["database"]["status"] == "down"
        assert 'service_dependency_up{critical="true",dependency="database"} 0.0' in (await client.get("/metrics")).text


async def test_sibling_service_down_is_degraded_not_unready(database_url):
    settings = _Settings(database_url=database_url)
    app = create_service_app(
        settings, title="p", description="p", dependencies={"oncall-service": f"http://127.0.0.1:{free_port()}"}
    )
    async with running_app(app) as client:
        body = (await client.get("/health/ready")).json()
        metrics = (await client.get("/metrics")).text
    assert 'service_dependency_up{critical="false",dependency="oncall-service"} 0.0' in metrics
    assert body["status"] == "degraded"
    assert body["dependencies"]["oncall-service"] == body["dependencies"]["oncall-service"] | {
        "status": "down",
        "critical": False,
    }


async def test_metrics_are_prometheus_text_with_route_templates(database_url):
    async with running_app(_app(database_url)) as client:
        await client.get("/log")
        await client.get("/no/such/path/123")
        text = (await client.get("/metrics")).text
    families = {family.name: family for family in text_string_to_metric_families(text)}
    handlers = {sample.labels.get("handler") for sample in families["http_requests"].samples}
    assert "/log" in handlers
    assert "/no/such/path/123" not in handlers


async def test_an_unexpected_error_is_logged_with_its_request_id(database_url, capsys):
    async with running_app(_app(database_url)) as client:
        boom = await client.get("/boom")
    assert boom.status_code == 500
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines() if '"unhandled error"' in line]
    assert [line["request_id"] for line in lines] == [boom.headers["x-request-id"]]
    assert "hunter2" in lines[0]["exc_info"]  # the log keeps what the answer hides


async def test_request_id_is_taken_and_given_back(database_url, capsys):
    async with running_app(_app(database_url)) as client:
        given = await client.get("/log", headers={"X-Request-ID": "trace-77"})
        made = await client.get("/log")
    assert given.headers["x-request-id"] == "trace-77"
    assert len(made.headers["x-request-id"]) == 32
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines() if '"handled"' in line]
    assert {line["request_id"] for line in lines} == {"trace-77", made.headers["x-request-id"]}


async def test_errors_use_one_envelope_and_hide_internals(database_url):
    async with running_app(_app(database_url)) as client:
        conflict = await client.get("/conflict")
        boom = await client.get("/boom", headers={"X-Request-ID": "trace-500"})
        missing = await client.get("/nope")
        limited = await client.get("/slow-down")
    assert conflict.status_code == 409
    assert conflict.json() == {"detail": "already acknowledged", "current_status": "acknowledged"}
    assert boom.status_code == 500
    assert "hunter2" not in boom.text and "Traceback" not in boom.text
    assert boom.json()["detail"] == "Internal server error"
    # The id to find the stack trace by in the log: in the body and the header, as on every answer.
    assert boom.json()["request_id"] == boom.headers["x-request-id"] == "trace-500"
    assert missing.status_code == 404
    assert limited.status_code == 429
    assert limited.headers["retry-after"] == "7"
    assert limited.json() == {"detail": "rate limited", "retry_after_seconds": 7}


async def test_a_database_not_taking_connections_yet_is_a_503_with_retry_after(database_url):
    # Seen in bench/faults.py's PostgreSQL outage: the server coming back answers "starting up".
    async with running_app(_app(database_url)) as client:
        starting = await client.get("/starting-up")
        bug = await client.get("/bad-text")
    assert starting.status_code == 503
    assert starting.headers["retry-after"] == "5"
    assert bug.status_code == 500  # any other database error is still a bug, not an outage


async def test_oversize_bodies_are_refused_with_413(database_url):
    async with running_app(_app(database_url, max_body_bytes=1000)) as client:
        declared = await client.post("/log", content=b"x" * 2000)

        async def chunks():
            for _ in range(3):
                yield b"x" * 600

        streamed = await client.put("/admin/log-level", content=chunks(), headers={"content-type": "application/json"})
    assert declared.status_code == 413
    assert streamed.status_code == 413
    assert declared.json() == {"detail": "Request body exceeds 1000 bytes"}
    assert streamed.json() == {"detail": "Request body exceeds 1000 bytes"}


async def test_log_level_changes_while_running(database_url):
    async with running_app(_app(database_url)) as client:
        changed = await client.put("/admin/log-level", json={"level": "DEBUG"})
        current = await client.get("/admin/log-level")
        invalid = await client.put("/admin/log-level", json={"level": "LOUD"})
        await client.put("/admin/log-level", json={"level": "INFO"})
    assert changed.json() == {"level": "DEBUG"}
    assert current.json() == {"level": "DEBUG"}
    assert invalid.status_code == 422


@pytest.mark.parametrize(
    ("who", "status"),
    [(None, 401), ("wrong", 401), ("viewer", 403), ("responder", 403), ("admin", 200), ("platform", 200)],
)
async def test_the_log_level_is_for_admins_and_the_platform(clean_database, who, status):
    if who in ("viewer", "responder", "admin"):
        headers = user_with_token(clean_database, who, role=who)[1]
    else:
        headers = {None: {}, "wrong": {"Authorization": "Bearer ipt_not-a-token"}, "platform": PLATFORM_HEADERS}[who]
    app = _app(clean_database, environment="dev", internal_tokens=INTERNAL_TOKEN)
    async with running_app(app, as_platform=False) as client:
        response = await client.get("/admin/log-level", headers=headers)
    assert response.status_code == status, response.text


async def test_what_start_up_built_is_kept_from_the_collector_while_the_app_runs(database_url):
    """bench/search.py's p99 was full collections walking start-up's objects."""
    assert gc.get_freeze_count() == 0
    async with running_app(_app(database_url)) as client:
        assert (await client.get("/health")).status_code == 200
        assert gc.get_freeze_count() > 10_000  # the routes, models and modules, at least
    assert gc.get_freeze_count() == 0  # handed back: the next app's garbage can be collected


async def test_a_sender_that_hangs_up_before_its_body_is_read_is_no_server_error(database_url, capsys):
    """Under load a sender's own timeout can close the connection mid-body (bench/faults.py saw
    it): a 400 nobody reads, logged as what it is, not a 500 "unhandled error" for the 5xx panel."""
    app = _app(database_url)
    sent: list[dict] = []
    incoming = iter([{"type": "http.request", "body": b'{"par', "more_body": True}, {"type": "http.disconnect"}])

    async def receive() -> dict:
        return next(incoming)

    async def send(message: dict) -> None:
        sent.append(message)

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": "/echo",
        "raw_path": b"/echo",
        "query_string": b"",
        "headers": [(b"content-type", b"application/json"), (b"content-length", b"100")],
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 8000),
    }
    await app(scope, receive, send)
    assert sent[0]["type"] == "http.response.start" and sent[0]["status"] == 400
    logged = [json.loads(line)["message"] for line in capsys.readouterr().out.splitlines() if line.startswith("{")]
    assert "unhandled error" not in logged
    assert "client disconnected before its request was read" in logged
