"""POST /api/v1/notify/batch: many notify requests in one (incident-management's page
outbox), each item answered on its own, idempotent per item's key."""

import pytest
import sqlalchemy as sa

from notification_service.main import create_app
from platform_testing import running_app


def page(receiver, an_incident, key, path="/a"):
    return {
        "idempotency_key": key,
        "event": "triggered",
        "incident": an_incident(),
        "targets": [{"channel": "webhook", "target": f"{receiver.url}{path}"}],
    }


async def test_each_item_is_stored_and_delivered_once_and_a_repeated_key_is_a_replay(
    client, receiver, settled, an_incident
):
    first, second = page(receiver, an_incident, "k-1", "/one"), page(receiver, an_incident, "k-2", "/two")
    response = await client.post("/api/v1/notify/batch", json={"items": [first, second]})
    assert response.status_code == 200
    results = response.json()["results"]
    assert [r["status_code"] for r in results] == [202, 202]
    assert [r["accepted"]["idempotency_key"] for r in results] == ["k-1", "k-2"]

    # The batch sent again (its answer was lost), with a new page: only the new one is stored.
    third = page(receiver, an_incident, "k-3", "/three")
    again = (await client.post("/api/v1/notify/batch", json={"items": [first, second, third]})).json()["results"]
    assert [r["status_code"] for r in again] == [200, 200, 202]
    assert [r["accepted"]["duplicate"] for r in again] == [True, True, False]
    ids = [[n["id"] for n in r["accepted"]["notifications"]] for r in results]
    assert [[n["id"] for n in r["accepted"]["notifications"]] for r in again[:2]] == ids

    for result in again:
        [notification] = result["accepted"]["notifications"]
        assert (await settled(client, notification["id"]))["status"] == "delivered"
    assert sorted(r.path for r in receiver.received) == ["/one", "/three", "/two"]
    assert (await client.get("/api/v1/notifications")).json()["total"] == 3


async def test_one_key_twice_in_a_batch_is_stored_once(client, receiver, an_incident):
    item = page(receiver, an_incident, "twice")
    results = (await client.post("/api/v1/notify/batch", json={"items": [item, item]})).json()["results"]
    assert [r["status_code"] for r in results] == [202, 200]
    assert [n["id"] for n in results[0]["accepted"]["notifications"]] == [
        n["id"] for n in results[1]["accepted"]["notifications"]
    ]
    assert (await client.get("/api/v1/notifications")).json()["total"] == 1


async def test_a_batchs_notifications_are_written_in_one_statement(settings_for, receiver, an_incident):
    # Not one insert (and one flush) per page, as each request's own insert used to cause.
    app = create_app(settings_for(notification_worker_enabled=False))
    inserts: list[str] = []

    def count(_conn, _cursor, statement, *_args) -> None:
        if statement.startswith("INSERT INTO notifications "):
            inserts.append(statement)

    async with running_app(app) as client:
        sa.event.listen(app.state.db.engine.sync_engine, "before_cursor_execute", count)
        items = [page(receiver, an_incident, f"one-statement-{n}", f"/{n}") for n in range(5)]
        results = (await client.post("/api/v1/notify/batch", json={"items": items})).json()["results"]
        assert [r["status_code"] for r in results] == [202] * 5
        assert len(inserts) == 1
        assert (await client.get("/api/v1/notifications")).json()["total"] == 5


async def test_an_invalid_item_is_refused_alone_with_what_was_wrong(client, receiver, an_incident):
    good = page(receiver, an_incident, "good")
    bad = {**page(receiver, an_incident, "bad"), "targets": [{"channel": "webhook", "target": "ftp://example.com"}]}
    results = (await client.post("/api/v1/notify/batch", json={"items": [bad, good]})).json()["results"]
    assert [r["status_code"] for r in results] == [422, 202]
    assert "http(s) URL" in results[0]["detail"]
    assert results[0]["accepted"] is None
    assert (await client.get("/api/v1/notifications")).json()["total"] == 1


@pytest.mark.parametrize(
    ("body", "complaint"),
    [({"items": []}, "items"), ({"items": [{}] * 201}, "items"), ({"pages": []}, "items"), ([], "object")],
)
async def test_a_body_that_is_not_a_list_of_1_to_200_items_is_a_clear_422(client, body, complaint):
    response = await client.post("/api/v1/notify/batch", json=body)
    assert response.status_code == 422
    assert complaint in str(response.json()["detail"])
