"""The retry policy of calls between services, against a fake transport."""

import httpx
import pytest

from platform_common.http import RetryableStatus, ServiceClient
from platform_common.logging import request_id_var


class FlakyTransport(httpx.AsyncBaseTransport):
    """Answers with the given outcomes in order, recording each request."""

    def __init__(self, *outcomes):
        self.outcomes = list(outcomes)
        self.requests: list[httpx.Request] = []

    async def handle_async_request(self, request):
        self.requests.append(request)
        outcome = self.outcomes.pop(0)
        if isinstance(outcome, Exception):
            raise outcome
        return httpx.Response(outcome, json={"n": len(self.requests)})


def _client(transport, retries=3):
    return ServiceClient("http://svc", retries=retries, backoff_initial=0.001, backoff_max=0.002, transport=transport)


async def test_retries_connection_errors_and_5xx_then_succeeds():
    transport = FlakyTransport(httpx.ConnectError("refused"), 503, 200)
    response = await _client(transport).get("/x")
    assert response.status_code == 200
    assert len(transport.requests) == 3


async def test_gives_up_after_bounded_retries():
    transport = FlakyTransport(*([503] * 10))
    with pytest.raises(RetryableStatus):
        await _client(transport, retries=2).post("/x", json={})
    assert len(transport.requests) == 3


async def test_client_errors_are_not_retried():
    transport = FlakyTransport(409, 200)
    response = await _client(transport).patch("/x", json={})
    assert response.status_code == 409
    assert len(transport.requests) == 1


async def test_forwards_the_current_request_id():
    transport = FlakyTransport(200, 200)
    token = request_id_var.set("req-42")
    try:
        await _client(transport).get("/x")
    finally:
        request_id_var.reset(token)
    await _client(transport).get("/y")
    assert transport.requests[0].headers["x-request-id"] == "req-42"
    assert len(transport.requests[1].headers["x-request-id"]) == 32


async def test_by_default_a_call_is_tried_once_so_its_queue_alone_retries_it():
    transport = FlakyTransport(503, 200)
    with pytest.raises(RetryableStatus):
        await ServiceClient("http://svc", transport=transport).post("/x", json={})
    assert len(transport.requests) == 1
