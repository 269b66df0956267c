"""The two hot routes are plain Starlette routes placed before FastAPI's: they
must still behave like every other route of the platform, be registered once,
and be described in the OpenAPI document."""

import pytest
from starlette.routing import Route

from alert_ingestion.api.routes import alerts, pagerduty

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


HANDLERS = {"/api/v1/alerts": alerts.post_alert, "/v2/enqueue": pagerduty.enqueue}
STATUSES = {
    "/api/v1/alerts": {"202", "400", "401", "403", "413", "422", "429", "503"},
    "/v2/enqueue": {"202", "400", "413", "429", "503"},
}
BODIES = {"/api/v1/alerts": "GenericAlertIn", "/v2/enqueue": "PagerDutyEvent"}


@pytest.mark.parametrize("path", ["/api/v1/alerts", "/v2/enqueue"])
async def test_each_hot_route_is_registered_once_and_reaches_its_handler(client, path, monkeypatch):
    posting = [
        route
        for route in client.app.router.routes
        if isinstance(route, Route) and route.path == path and "POST" in (route.methods or ())
    ]
    assert [route.endpoint for route in posting] == [HANDLERS[path]]
    # The request goes through that route, not another copy.
    reached = []
    served = posting[0].app

    async def spy(scope, receive, send):
        reached.append(scope["path"])
        await served(scope, receive, send)

    monkeypatch.setattr(posting[0], "app", spy)
    body = ALERT if path == "/api/v1/alerts" else {"routing_key": "nope", "event_action": "trigger"}
    response = await client.post(path, json=body)
    assert response.status_code in (202, 400), response.text
    assert reached == [path]


@pytest.mark.parametrize("path", ["/api/v1/alerts", "/v2/enqueue"])
async def test_openapi_describes_each_hot_route_truthfully(client, path):
    spec = (await client.get("/openapi.json")).json()
    operation = spec["paths"][path]["post"]
    body = operation["requestBody"]["content"]["application/json"]["schema"]
    assert body == {"$ref": f"#/components/schemas/{BODIES[path]}"}
    assert spec["components"]["schemas"][BODIES[path]]["properties"]
    assert set(operation["responses"]) == STATUSES[path]
    for status, response in operation["responses"].items():
        ref = response["content"]["application/json"]["schema"]["$ref"]
        assert ref.removeprefix("#/components/schemas/") in spec["components"]["schemas"], (status, ref)
    assert "Retry-After" in operation["responses"]["429"]["headers"]
    operation_ids = [op["operationId"] for item in spec["paths"].values() for op in item.values()]
    assert len(operation_ids) == len(set(operation_ids))
