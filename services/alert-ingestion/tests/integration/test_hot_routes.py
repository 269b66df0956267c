"""The two hot routes are plain Starlette routes placed before FastAPI's: they
must still behave like every other route of the platform."""

import pytest

ALERT = {"service": "checkout", "severity": "high", "message": "Payment API error rate 12% above threshold"}


@pytest.mark.parametrize("path", ["/api/v1/alerts", "/v2/enqueue"])
async def test_hot_routes_keep_request_id_metrics_and_docs(client, path):
    body = ALERT if path == "/api/v1/alerts" else {"routing_key": "nope", "event_action": "trigger"}
    response = await client.post(path, json=body, headers={"X-Request-ID": "trace-42"})
    assert response.status_code in (202, 400)
    assert response.headers["x-request-id"] == "trace-42"
    # Counted under the route's template, like FastAPI's routes.
    text = (await client.get("/metrics")).text
    assert f'handler="{path}"' in text
    # Still documented.
    spec = (await client.get("/openapi.json")).json()
    assert "post" in spec["paths"][path]
    assert spec["paths"][path]["post"]["responses"].get("202")


async def test_other_methods_on_a_hot_path(client):
    assert (await client.get("/api/v1/alerts")).status_code == 200  # the listing, FastAPI's route
    wrong = await client.put("/v2/enqueue", json={})
    assert wrong.status_code == 405
    assert wrong.json() == {"detail": "Method Not Allowed"}
