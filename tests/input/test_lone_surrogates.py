"""A lone UTF-16 surrogate in a JSON body (`"\\ud800"`, valid JSON syntax, no
Unicode character) is a 4xx naming the field, with the request id, on every
service: the login (anonymous) included, and the alert senders' hot routes in
their own shapes. It was a 500 without a request id (rendering the 422 that
echoed it, or writing it to PostgreSQL), which counts toward HighErrorRatio.

The bodies are bytes on the wire, as a client sends them: `\\ud800` escaped,
and once as the raw bytes a surrogate would have in UTF-8 (ED A0 80), which
Python's JSON parser also reads as one."""

from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from typing import Any

import pytest

from platform_testing import running_app

SURROGATE = "\\ud800"  # the six characters of the JSON escape
JSON = {"content-type": "application/json"}


def escaped(template: str) -> bytes:
    """A JSON body with the escape put where `template` says `SURROGATE`."""
    return template.replace("SURROGATE", SURROGATE).encode()


# (service, route, body, the field the answer must name); sent as the platform, except the open and sender routes.
CASES: list[tuple[str, str, bytes, list[str | int]]] = [
    ("oncall-service", "/api/v1/auth/login", escaped('{"email": "SURROGATE@example.com", "password": "x"}'), ["email"]),
    (
        "oncall-service",
        "/api/v1/auth/login",
        escaped('{"email": "ann@example.com", "password": "secretSURROGATE"}'),
        ["password"],
    ),
    ("oncall-service", "/api/v1/users", escaped('{"name": "SURROGATE", "email": "a@example.com"}'), ["name"]),
    (
        "oncall-service",
        "/api/v1/users",
        b'{"name": "Raw", "email": "r@example.com", "timezone": "Europe/\xed\xa0\x80"}',
        ["timezone"],
    ),
    (
        "incident-management",
        "/api/v1/incidents",
        escaped('{"title": "Disk full SURROGATE", "service": "db", "severity": "high"}'),
        ["title"],
    ),
    (
        "notification-service",
        "/api/v1/notify",
        escaped(
            '{"event": "triggered", "incident": {"id": "1c0a6d3e-52b5-4a0b-9e09-3a1d2b9f3b11", "title": "x",'
            ' "service": "db", "severity": "high", "status": "open"}, "message": "SURROGATE",'
            ' "targets": [{"channel": "log", "address": "ops"}]}'
        ),
        ["message"],
    ),
    (
        "alert-ingestion",
        "/api/v1/alerts",
        escaped('{"message": "boom", "labels": {"SURROGATE": "x"}}'),
        ["labels", "\\ud800"],
    ),
    (
        "alert-ingestion",
        "/api/v1/integrations",
        escaped('{"name": "SURROGATE", "service": "db", "type": "generic"}'),
        ["name"],
    ),
]
SENDERS = {"/api/v1/auth/login", "/api/v1/alerts"}


@pytest.fixture
async def clients(service_apps, clean_database) -> AsyncIterator[dict[str, Any]]:
    """Each service running in-process, by name; alert-ingestion's sender holds a key of service `db`."""
    async with AsyncExitStack() as stack:
        running: dict[str, Any] = {
            name: await stack.enter_async_context(running_app(app)) for name, app in service_apps.items()
        }
        made = await running["alert-ingestion"].post(
            "/api/v1/integrations", json={"name": "tests", "service": "db", "type": "generic"}
        )
        assert made.status_code == 201, made.text
        running["key"] = made.json()["key"]
        yield running


@pytest.mark.parametrize(("service", "path", "body", "field"), CASES, ids=[f"{c[0]}{c[1]}" for c in CASES])
async def test_a_lone_surrogate_is_a_422_naming_the_field_with_the_request_id(clients, service, path, body, field):
    headers = dict(JSON)
    if path in SENDERS:
        # No platform credential: the login is anonymous, an alert comes with its integration key.
        headers["Authorization"] = f"Bearer {clients['key']}" if path == "/api/v1/alerts" else ""
    response = await clients[service].post(path, content=body, headers={**headers, "X-Request-ID": "surrogate-1"})
    assert response.status_code == 422, response.text
    assert response.headers["x-request-id"] == "surrogate-1"
    (problem,) = response.json()["detail"]
    assert problem["loc"] == ["body", *field]
    assert problem["type"] == "string_unicode"
    assert "lone surrogate" in problem["msg"]
    assert "input" not in problem


async def test_pagerduty_senders_hear_it_in_pagerdutys_shape_naming_the_field(clients):
    body = escaped(
        '{"routing_key": "KEY", "event_action": "trigger",'
        ' "payload": {"summary": "Disk SURROGATE full", "source": "db-1", "severity": "critical"}}'
    ).replace(b"KEY", clients["key"].encode())
    response = await clients["alert-ingestion"].post(
        "/v2/enqueue", content=body, headers={**JSON, "Authorization": "", "X-Request-ID": "surrogate-2"}
    )
    assert response.status_code == 400, response.text
    assert response.headers["x-request-id"] == "surrogate-2"
    answer = response.json()
    assert answer["status"] == "invalid event"
    (error,) = answer["errors"]
    assert error.startswith("payload.summary: ") and "lone surrogate" in error


async def test_a_surrogate_pair_is_a_character_and_stored(clients):
    """An escaped pair (as `json.dumps` writes an emoji by default) is valid Unicode: accepted."""
    response = await clients["alert-ingestion"].post(
        "/api/v1/alerts",
        content=b'{"message": "fire \\ud83d\\udd25", "severity": "high"}',
        headers={**JSON, "Authorization": f"Bearer {clients['key']}"},
    )
    assert response.status_code == 202, response.text
    stored = await clients["alert-ingestion"].get(f"/api/v1/alerts/{response.json()['alert_id']}")
    assert stored.json()["message"] == "fire \U0001f525"
