"""The state machine through the HTTP API: every legal and illegal move, MTTA/MTTR, races."""

import asyncio
import uuid
from datetime import datetime, timedelta
from itertools import product

import psycopg
import pytest
from sqlalchemy import event

from incident_management.domain.state import ALLOWED, Status
from platform_testing import user_with_token

STATUSES = [s.value for s in Status]
# A path from `open` to each status, through legal moves only.
PATH_TO = {
    "open": [],
    "acknowledged": ["acknowledged"],
    "in_progress": ["acknowledged", "in_progress"],
    "resolved": ["resolved"],
}


async def test_create_returns_the_incident_and_a_repeat_with_the_same_id_returns_it_again(harness):
    chosen = str(uuid.uuid4())
    first = await harness.client.post(
        "/api/v1/incidents",
        json={"id": chosen, "title": "DB down", "service": "payments", "severity": "critical"},
    )
    assert first.status_code == 201
    body = first.json()
    assert body["id"] == chosen
    assert body["status"] == "open"
    assert body["alert_count"] == 0
    assert body["needs_assignment"] is True, "answered at once: on-call is asked after, by the engine"
    assert datetime.fromisoformat(body["created_at"]).utcoffset() == timedelta(0)
    again = await harness.client.post(
        "/api/v1/incidents", json={"id": chosen, "title": "other", "service": "x", "severity": "low"}
    )
    assert again.status_code == 200
    assert again.json()["title"] == "DB down"
    listed = (await harness.client.get("/api/v1/incidents")).json()
    assert listed["total"] == 1


@pytest.mark.parametrize(
    "chosen",
    [{"id": "7f1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d"}, {"opened_at": "2020-01-01T00:00:00Z"}],
    ids=["id", "opened_at"],
)
async def test_only_the_platform_chooses_an_incidents_id_or_opening_time(harness, chosen):
    body = {"title": "Backdated", "service": "payments", "severity": "high", **chosen}
    refused = await harness.client.post("/api/v1/incidents", json=body, headers=harness.as_user("alice"))
    assert refused.status_code == 403, refused.text
    assert next(iter(chosen)) in refused.json()["detail"]
    assert (await harness.client.get("/api/v1/incidents")).json()["total"] == 0
    # Without them a responder opens it, now.
    plain = {"title": "Backdated", "service": "payments", "severity": "high"}
    opened = await harness.client.post("/api/v1/incidents", json=plain, headers=harness.as_user("alice"))
    assert opened.status_code == 201, opened.text
    assert datetime.fromisoformat(opened.json()["created_at"]) == harness.clock.now()


async def test_the_platform_opens_an_incident_as_of_the_alert_that_opened_it(harness):
    seen = harness.clock.now() - timedelta(minutes=3)
    body = {"title": "t", "service": "payments", "severity": "high", "opened_at": seen.isoformat()}
    opened = await harness.client.post("/api/v1/incidents", json=body)
    assert opened.status_code == 201
    assert datetime.fromisoformat(opened.json()["created_at"]) == seen


@pytest.mark.parametrize("who", ["nobody", "not-a-uuid", "viewer", "disabled"])
async def test_an_assignee_must_be_a_user_who_may_act(harness, who):
    if who == "nobody":
        assignee = str(uuid.uuid4())
    elif who == "not-a-uuid":
        assignee = "alice"
    else:
        assignee = str(
            user_with_token(harness.database_url, f"Some {who}", role="viewer" if who == "viewer" else "responder")[0]
        )
        if who == "disabled":
            with psycopg.connect(harness.database_url, autocommit=True) as conn:
                conn.execute("UPDATE users SET disabled = true WHERE id = %s", (assignee,))
    body = {"title": "t", "service": "payments", "severity": "high", "assigned_to": assignee}
    created = await harness.client.post("/api/v1/incidents", json=body, headers=harness.as_user("alice"))
    assert created.status_code == 422, created.text
    assert created.json()["detail"][0]["loc"] == ["body", "assigned_to"]
    assert (await harness.client.get("/api/v1/incidents")).json()["total"] == 0
    incident = await harness.create()
    changed = await harness.patch(incident["id"], assigned_to=assignee, actor="alice")
    assert changed.status_code == 422, changed.text
    assert changed.json()["detail"][0]["loc"] == ["body", "assigned_to"]
    if who != "not-a-uuid":  # that one is refused as malformed before anyone is looked up
        # It says why: only responders and admins may act on a page.
        assert "only responders and admins" in changed.json()["detail"][0]["msg"]
    after = await harness.detail(incident["id"])
    assert (after["assigned_to"], after["version"], after["timeline"]) == (None, 1, incident["timeline"])


async def test_a_responder_or_admin_may_be_assigned_and_anyone_unassigned(harness):
    responder = str(harness.user_id("alice"))
    admin = str(user_with_token(harness.database_url, "Root", role="admin")[0])
    incident = await harness.create(assigned_to=responder)
    assert incident["assigned_to"] == responder
    changed = await harness.patch(incident["id"], assigned_to=admin, actor="alice")
    assert changed.status_code == 200 and changed.json()["assigned_to"] == admin
    unassigned = await harness.patch(incident["id"], assigned_to=None, actor="alice")
    assert unassigned.status_code == 200 and unassigned.json()["assigned_to"] is None


def test_the_platforms_repeated_create_is_documented(harness):
    create = harness.app.openapi()["paths"]["/api/v1/incidents"]["post"]["responses"]
    assert create["200"]["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/IncidentRead"}
    assert {"201", "403", "422"} <= set(create)


@pytest.mark.parametrize(
    "body",
    [
        {"service": "payments", "severity": "high"},
        {"title": "t", "service": "payments", "severity": "urgent"},
        {"title": " ", "service": "payments", "severity": "high"},
        {"title": "t", "service": "payments", "severity": "high", "alert_count": -1},
        {"title": "t", "service": "payments", "severity": "high", "id": "not-a-uuid"},
        {"title": "t", "service": "payments", "severity": "high", "surprise": 1},
    ],
)
async def test_invalid_creates_are_refused_with_422(harness, body):
    response = await harness.client.post("/api/v1/incidents", json=body)
    assert response.status_code == 422
    assert "detail" in response.json()


@pytest.mark.parametrize(("start", "target"), list(product(STATUSES, STATUSES)))
async def test_every_transition_is_allowed_or_refused_exactly_as_the_contract_says(harness, start, target):
    incident = await harness.create()
    for step in PATH_TO[start]:
        assert (await harness.patch(incident["id"], status=step)).status_code == 200
    response = await harness.patch(incident["id"], status=target, actor="alice")
    legal = Status(target) in ALLOWED[Status(start)]
    if legal:
        assert response.status_code == 200, response.text
        assert response.json()["status"] == target
        assert (await harness.events(incident["id"]))[-1] == target
    else:
        assert response.status_code == 409
        assert response.json()["current_status"] == start
        assert (await harness.detail(incident["id"]))["status"] == start


async def test_mtta_and_mttr_are_measured_from_creation(harness):
    incident = await harness.create()
    harness.clock.advance(timedelta(minutes=4))
    acked = (await harness.patch(incident["id"], status="acknowledged", actor="alice")).json()
    assert acked["mtta_seconds"] == 240
    assert acked["mttr_seconds"] is None
    harness.clock.advance(timedelta(minutes=10))
    assert (await harness.patch(incident["id"], status="in_progress")).status_code == 200
    harness.clock.advance(timedelta(minutes=16))
    resolved = (await harness.patch(incident["id"], status="resolved")).json()
    assert resolved["mtta_seconds"] == 240
    assert resolved["mttr_seconds"] == 1800
    assert resolved["resolved_at"] is not None
    metrics = (await harness.client.get(f"/api/v1/incidents/{incident['id']}/metrics")).json()
    assert metrics["mtta_seconds"] == 240
    assert metrics["mttr_seconds"] == 1800
    assert metrics["open_seconds"] == 1800
    timeline = [e for e in (await harness.detail(incident["id"]))["timeline"] if "from" in e["data"]]
    assert [(e["event_type"], e["data"]["from"]) for e in timeline] == [
        ("acknowledged", "open"),
        ("in_progress", "acknowledged"),
        ("resolved", "in_progress"),
    ]
    assert timeline[0]["data"]["mtta_seconds"] == 240
    assert timeline[2]["data"]["mttr_seconds"] == 1800


async def test_an_acknowledgement_is_five_statements_and_answers_the_incident_as_stored(harness):
    """One read of the incident, its versioned write, the pages the answer makes
    pointless, the timeline, and who was paged (to be told; nobody yet here, so
    no notice is written): the incident is not read back after writing."""
    incident = await harness.create()
    statements: list[str] = []

    def note(_conn, _cursor, statement, *_args):
        verb, table = statement.replace("INSERT INTO", "INSERT").split()[:2]
        statements.append(verb if verb == "SELECT" else f"{verb} {table}")

    engine = harness.app.state.db.engine.sync_engine
    event.listen(engine, "before_cursor_execute", note)
    try:
        answer = await harness.patch(incident["id"], status="acknowledged")
    finally:
        event.remove(engine, "before_cursor_execute", note)
    assert answer.status_code == 200, answer.text
    assert statements == ["SELECT", "UPDATE incidents", "UPDATE incident_pages", "INSERT incident_timeline", "SELECT"]
    stored = await harness.detail(incident["id"])
    assert answer.json() == {key: stored[key] for key in answer.json()}
    assert (answer.json()["status"], answer.json()["version"]) == ("acknowledged", 2)


async def test_resolving_straight_from_open_sets_mtta_equal_to_mttr(harness):
    incident = await harness.create()
    harness.clock.advance(timedelta(seconds=90))
    resolved = (await harness.patch(incident["id"], status="resolved")).json()
    assert resolved["mtta_seconds"] == resolved["mttr_seconds"] == 90
    assert resolved["acknowledged_at"] == resolved["resolved_at"]


async def test_two_responders_acknowledging_at_once_one_wins_one_gets_409(harness):
    for _ in range(5):
        incident = await harness.create()
        responses = await asyncio.gather(
            harness.patch(incident["id"], status="acknowledged", actor="alice"),
            harness.patch(incident["id"], status="acknowledged", actor="bob"),
        )
        codes = sorted(r.status_code for r in responses)
        assert codes == [200, 409]
        loser = next(r for r in responses if r.status_code == 409).json()
        assert loser["current_status"] == "acknowledged"
        detail = await harness.detail(incident["id"])
        assert detail["version"] == 2
        acks = [e for e in detail["timeline"] if e["event_type"] == "acknowledged"]
        assert len(acks) == 1
        winner = next(r for r in responses if r.status_code == 200).json()
        assert acks[0]["actor"] in ("alice", "bob")
        assert winner["acknowledged_at"] is not None


async def test_resolve_racing_with_acknowledge_never_corrupts_the_record(harness):
    for _ in range(5):
        incident = await harness.create()
        responses = await asyncio.gather(
            harness.patch(incident["id"], status="acknowledged", actor="alice"),
            harness.patch(incident["id"], status="resolved", actor="bob"),
        )
        detail = await harness.detail(incident["id"])
        won = [r.json()["status"] for r in responses if r.status_code == 200]
        assert won, "at least one change must land"
        assert detail["status"] in ("acknowledged", "resolved")
        # A resolved incident always carries both times; MTTA is never rewritten.
        if detail["status"] == "resolved":
            assert detail["resolved_at"] and detail["mttr_seconds"] is not None
        assert detail["mtta_seconds"] is not None
        assert detail["version"] == 1 + len(won)


async def test_a_stale_version_is_refused_with_the_current_state(harness):
    incident = await harness.create()
    assert (await harness.patch(incident["id"], status="acknowledged", version=1)).status_code == 200
    stale = await harness.patch(incident["id"], status="resolved", version=1)
    assert stale.status_code == 409
    assert stale.json()["current_status"] == "acknowledged"
    assert stale.json()["version"] == 2


async def test_patch_errors_are_clear(harness):
    missing = await harness.patch(str(uuid.uuid4()), status="acknowledged")
    assert missing.status_code == 404
    incident = await harness.create()
    assert (await harness.patch(incident["id"])).status_code == 422
    assert (await harness.patch(incident["id"], status="closed")).status_code == 422
    assert (await harness.client.patch("/api/v1/incidents/not-a-uuid", json={"note": "x"})).status_code == 422
    # Refused changes leave no trace.
    after = await harness.detail(incident["id"])
    assert (after["status"], after["version"], after["timeline"]) == ("open", 1, incident["timeline"])


async def test_notes_and_reassignment_are_recorded_in_the_timeline(harness):
    alice, carol = str(harness.user_id("alice")), str(harness.user_id("carol"))
    incident = await harness.create(assigned_to=alice)
    notes_url = f"/api/v1/incidents/{incident['id']}/notes"
    note = await harness.client.post(notes_url, json={"body": "Rolled back"}, headers=harness.as_user("bob"))
    assert note.status_code == 201
    harness.clock.advance(timedelta(minutes=1))
    changed = await harness.patch(incident["id"], assigned_to=carol, note="Handing over", actor="bob")
    assert changed.status_code == 200
    assert changed.json()["assigned_to"] == carol
    detail = await harness.detail(incident["id"])
    assert [n["body"] for n in detail["notes"]] == ["Rolled back", "Handing over"]
    events = [(e["event_type"], e["actor"]) for e in detail["timeline"]]
    assert events == [
        ("created", "platform"),
        ("assigned", "platform"),
        ("note_added", "bob"),
        ("assigned", "bob"),
        ("note_added", "bob"),
    ]
    # Who did it is the signed-in user, by id too; nobody can name someone else in the body.
    bob = harness.user_id("bob")
    assert {e["actor_id"] for e in detail["timeline"] if e["actor"] == "bob"} == {str(bob)}
    assert {n["author_id"] for n in detail["notes"]} == {str(bob)}
    assert (await harness.client.post(f"/api/v1/incidents/{uuid.uuid4()}/notes", json={"body": "x"})).status_code == 404
    assert (await harness.client.post(notes_url, json={"body": ""})).status_code == 422
