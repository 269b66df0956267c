"""A service's grouping settings (`PATCH /api/v1/services/{service_id}`), and
alert-ingestion's rule reading them through the view oncall-service publishes."""

import json
import uuid
from datetime import UTC, datetime

import psycopg
import pytest

from platform_testing import as_service

PATH = "/api/v1/services"


async def test_grouping_settings_default_change_and_go_back_to_the_default(api, client):
    service = await api.post(PATH, {"name": "checkout"})
    assert (service["correlation_window_minutes"], service["grouping_fields"], service["join_acknowledged"]) == (
        None,
        [],
        True,
    )
    changed = await client.patch(
        f"{PATH}/{service['id']}",
        json={
            "correlation_window_minutes": 0,
            "grouping_fields": ["labels.alertname", "labels.instance", "labels.alertname"],
            "join_acknowledged": False,
        },
    )
    assert changed.status_code == 200, changed.text
    body = changed.json()
    assert body["correlation_window_minutes"] == 0
    assert body["grouping_fields"] == ["labels.alertname", "labels.instance"]  # once each, in order
    assert body["join_acknowledged"] is False
    # Leaving a field out keeps it; null goes back to ingestion's default window.
    kept = (await client.patch(f"{PATH}/{service['id']}", json={"description": "shop"})).json()
    assert (kept["correlation_window_minutes"], kept["join_acknowledged"]) == (0, False)
    reset = (await client.patch(f"{PATH}/{service['id']}", json={"correlation_window_minutes": None})).json()
    assert reset["correlation_window_minutes"] is None and reset["grouping_fields"] == body["grouping_fields"]


@pytest.mark.parametrize(
    "body",
    [
        {"correlation_window_minutes": -1},
        {"correlation_window_minutes": 10081},
        {"correlation_window_minutes": "five"},
        {"grouping_fields": ["labels."]},
        {"grouping_fields": ["severity"]},
        {"grouping_fields": ["labels.a b"]},
        {"grouping_fields": [f"labels.l{i}" for i in range(11)]},
        {"join_acknowledged": "maybe"},
    ],
)
async def test_bad_grouping_settings_are_refused_with_a_422(api, client, body):
    service = await api.post(PATH, {"name": "checkout"})
    response = await client.patch(f"{PATH}/{service['id']}", json=body)
    assert response.status_code == 422, response.text
    assert response.json()["detail"]


async def test_the_rule_groups_as_the_service_says(api, client, clean_database):
    """Window 0 set through the API: two distinct alerts sent together open two incidents, though
    alert-ingestion's default window is 5 minutes; back to the default, they group."""
    service = await api.post(PATH, {"name": "checkout"})

    def two_alerts() -> set[uuid.UUID]:
        with psycopg.connect(as_service(clean_database, "alert_ingestion"), autocommit=True) as ingestion:
            rows = ingestion.execute(
                "SELECT incident FROM ingest_alerts(%s::uuid[], %s::uuid[], %s::text[], %s::text[], %s::text[],"
                " %s::text[], %s::text[], %s::text[], %s::json[], %s::text[], %s::text[], %s::timestamptz[],"
                " %s::json[], %s, %s)",
                [
                    [uuid.uuid4(), uuid.uuid4()],
                    [None, None],
                    ["s", "s"],
                    ["generic"] * 2,
                    ["test"] * 2,
                    ["checkout"] * 2,
                    ["high"] * 2,
                    ["one", "two"],
                    [json.dumps({})] * 2,
                    [f"fp-{uuid.uuid4()}", f"fp-{uuid.uuid4()}"],
                    [None, None],
                    [None, None],
                    [None, None],
                    datetime.now(UTC),
                    5.0,
                ],
            ).fetchall()
        return {incident for (incident,) in rows}

    await client.patch(f"{PATH}/{service['id']}", json={"correlation_window_minutes": 0})
    assert len(two_alerts()) == 2
    await client.patch(f"{PATH}/{service['id']}", json={"correlation_window_minutes": None})
    assert len(two_alerts()) == 1
