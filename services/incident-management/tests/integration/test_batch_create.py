"""`POST /api/v1/incidents/batch`: alert-ingestion's creates, many in one request."""

import uuid
from datetime import datetime, timedelta

import sqlalchemy as sa

from platform_testing import user_with_token


def _create(title: str, **fields: object) -> dict[str, object]:
    return {"id": str(uuid.uuid4()), "title": title, "service": "payments", "severity": "high", **fields}


def _counting_commits(harness) -> list[object]:
    """A list that gets an entry at each commit of the app's database engine from now on."""
    commits: list[object] = []
    sa.event.listen(harness.app.state.db.engine.sync_engine, "commit", commits.append)
    return commits


async def test_a_batch_answers_each_create_and_opens_the_new_ones_in_one_transaction(harness):
    existing = await harness.create(title="Opened before")  # and assigned
    seen = harness.clock.now() - timedelta(minutes=2)
    integration = {"id": str(uuid.uuid4()), "name": "prometheus"}
    new_one = _create("Disk full", opened_at=seen.isoformat(), acting_integration=integration)
    new_two = _create("Queue backed up", severity="critical")
    no_title = _create("")
    nobody = _create("Assigned to nobody", assigned_to=str(uuid.uuid4()))
    repeat = {"id": existing["id"], "title": "Opened before, sent again"}
    items = [
        new_one,
        {"id": repeat["id"], "title": repeat["title"], "service": "payments", "severity": "high"},
        no_title,
        new_two,
        nobody,
        {"title": "No id", "service": "payments", "severity": "low", "unknown": 1},
        dict(new_two),  # the same id twice in one batch: the second finds the first
    ]

    commits = _counting_commits(harness)
    response = await harness.client.post("/api/v1/incidents/batch", json={"items": items})

    assert response.status_code == 200, response.text
    assert len(commits) == 1, "one transaction for the whole batch"
    results = response.json()["results"]
    assert [r["status_code"] for r in results] == [201, 200, 422, 201, 422, 422, 200]
    assert [r["id"] for r in results] == [
        new_one["id"],
        repeat["id"],
        no_title["id"],
        new_two["id"],
        nobody["id"],
        None,
        new_two["id"],
    ]
    assert "title" in results[2]["detail"]
    assert "assigned_to" in results[4]["detail"] or "may be assigned" in results[4]["detail"]
    assert "unknown" in results[5]["detail"]
    # Nothing accepted is lost, nothing refused is written, a repeat changes nothing.
    listed = (await harness.client.get("/api/v1/incidents", params={"limit": 100})).json()
    assert sorted(i["title"] for i in listed["items"]) == ["Disk full", "Opened before", "Queue backed up"]
    one = await harness.detail(new_one["id"])
    assert datetime.fromisoformat(one["created_at"]) == seen, "MTTA counts from the alert"
    assert one["timeline"][0]["actor"] == "integration prometheus"
    assert (await harness.detail(new_two["id"]))["severity"] == "critical"
    # The engine takes them as any opened incident: both wait for assignment.
    report = await harness.tick()
    assert report.assigned == 2, report


async def test_a_batch_with_nothing_refused_sets_no_savepoint_per_item(harness):
    # Its creates run together; a savepoint each (two statements and a flush) is for a
    # batch with a refusal in it, which the test above covers.
    savepoints: list[object] = []
    sa.event.listen(harness.app.state.db.engine.sync_engine, "savepoint", lambda *args: savepoints.append(args))

    async def batch(size: int) -> int:
        before = len(savepoints)
        items = [_create(f"Storm {size}.{n}") for n in range(size)]
        response = await harness.client.post("/api/v1/incidents/batch", json={"items": items})
        assert [r["status_code"] for r in response.json()["results"]] == [201] * size, response.text
        return len(savepoints) - before

    assert await batch(5) == await batch(1)
    listed = (await harness.client.get("/api/v1/incidents", params={"limit": 100})).json()
    assert listed["total"] == 6


async def test_a_batch_must_be_1_to_100_items_from_the_platform(harness):
    post = harness.client.post
    assert (await post("/api/v1/incidents/batch", json={"items": []})).status_code == 422
    too_many = [_create(f"i{n}") for n in range(101)]
    assert (await post("/api/v1/incidents/batch", json={"items": too_many})).status_code == 422
    assert (await post("/api/v1/incidents/batch", json={"items": "x"})).status_code == 422
    assert (await post("/api/v1/incidents/batch", json=[_create("bare list")])).status_code == 422
    assert (await post("/api/v1/incidents/batch", json={"items": ["not an object"]})).status_code == 422
    _, responder = user_with_token(harness.database_url, "Rob Responder")
    as_user = await post("/api/v1/incidents/batch", json={"items": [_create("mine")]}, headers=responder)
    assert as_user.status_code == 403
    assert (await harness.client.get("/api/v1/incidents")).json()["total"] == 0
