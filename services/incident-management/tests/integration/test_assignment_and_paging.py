"""Assignment from oncall-service and paging through notification-service, with
either of them up or down: nothing lost, nothing sent twice."""

import uuid

import sqlalchemy as sa

from ..conftest import uid


async def test_a_new_incident_is_assigned_to_whoever_is_on_call_and_paged(harness):
    harness.oncall.configure("payments", levels=[(5, ["alice"]), (10, ["bob"])])
    incident = await harness.create()
    assert incident["assigned_to"] == uid("alice")
    assert incident["needs_assignment"] is False
    assert incident["next_escalation_at"] is not None
    assert harness.oncall.calls[0]["service"] == "payments"

    report = await harness.tick()
    assert report.pages_sent == 1
    [page] = harness.notifier.requests
    assert page["user_id"] == uid("alice")
    assert page["event"] == "triggered"
    assert page["incident"]["id"] == incident["id"]
    assert page["incident"]["url"].endswith(f"/incidents/{incident['id']}")
    assert page["idempotency_key"] == f"incident:{incident['id']}:level-0-cycle-0:{uid('alice')}"

    await harness.tick(seconds=1)
    assert len(harness.notifier.requests) == 1, "a sent page is never sent again"
    events = await harness.events(incident["id"])
    assert events == ["created", "assigned", "paged"]


async def test_a_cycle_sets_no_savepoint_per_incident_or_page(harness):
    """Assigning and paging five incidents takes the savepoints one does: a savepoint
    each (two statements and a flush) is only for a batch where one fails."""
    harness.oncall.configure("payments", levels=[(5, ["alice"])])
    savepoints: list[object] = []
    sa.event.listen(harness.app.state.db.engine.sync_engine, "savepoint", lambda *args: savepoints.append(args))

    async def cycle(size: int) -> int:
        new = {"service": "payments", "severity": "high"}
        items = [{**new, "id": str(uuid.uuid4()), "title": f"Storm {size}.{n}"} for n in range(size)]
        await harness.client.post("/api/v1/incidents/batch", json={"items": items})
        before = len(savepoints)
        report = await harness.tick()
        assert (report.assigned, report.pages_sent) == (size, size), report
        return len(savepoints) - before

    assert await cycle(5) == await cycle(1)


async def test_an_incident_that_cannot_be_assigned_fails_alone_in_its_cycle(harness):
    """The batch goes together, and when one of it fails (here a name too long for its
    column) the others are done again each alone: assigned and paged all the same."""
    harness.oncall.configure("payments", levels=[(5, ["alice"])])
    harness.oncall.configure("billing", levels=[(5, ["bob"])])
    chain = harness.oncall.answers["billing"]["escalation_chain"][0]
    chain["targets"][0]["name"] = chain["users"][0]["name"] = "B" * 300
    harness.oncall.answers["billing"]["primary"]["name"] = "B" * 300
    new = {"severity": "high"}
    items = [
        {**new, "id": str(uuid.uuid4()), "title": f"Storm {n}", "service": service}
        for n, service in enumerate(["payments", "billing", "payments"])
    ]
    await harness.client.post("/api/v1/incidents/batch", json={"items": items})

    report = await harness.tick()

    assert (report.assigned, report.pages_sent) == (2, 2), report
    assert [error.split(":")[0] for error in report.errors] == [f"assign {items[1]['id']}"]
    paged = sorted(r["incident"]["id"] for r in harness.notifier.requests)
    assert paged == sorted([items[0]["id"], items[2]["id"]])


async def test_pages_due_together_go_to_notification_service_in_one_request_each_answered(harness):
    harness.oncall.configure("payments", levels=[(5, ["alice"])])
    incidents = [await harness.create() for _ in range(3)]
    report = await harness.tick()
    assert report.pages_sent == 3
    assert harness.notifier.batches == [3]
    assert sorted(r["incident"]["id"] for r in harness.notifier.requests) == sorted(i["id"] for i in incidents)
    for incident in incidents:
        assert await harness.events(incident["id"]) == ["created", "assigned", "paged"]


async def test_with_oncall_down_the_incident_stays_unassigned_says_why_and_is_assigned_later_once(harness):
    harness.oncall.configure("payments", levels=[(5, ["alice"])])
    harness.oncall.server.stop()
    incident = await harness.create()
    assert incident["assigned_to"] is None
    assert incident["needs_assignment"] is True
    detail = await harness.detail(incident["id"])
    failure = detail["timeline"][-1]
    assert failure["event_type"] == "assignment_failed"
    assert "oncall-service" in failure["message"]
    assert "retried" in failure["message"]

    # Still down: retries back off and do not flood the timeline.
    await harness.tick(minutes=1)
    await harness.tick(minutes=1)
    assert (await harness.events(incident["id"])).count("assignment_failed") == 1
    assert harness.notifier.requests == []

    harness.oncall.server.start()
    await harness.tick(minutes=10)
    await harness.tick(seconds=1)
    detail = await harness.detail(incident["id"])
    assert detail["assigned_to"] == uid("alice")
    assert detail["needs_assignment"] is False
    assert harness.notifier.recipients() == ["alice"]
    assigned = next(e for e in detail["timeline"] if e["event_type"] == "assigned")
    assert "failed attempts" in assigned["message"]
    await harness.tick(minutes=1)
    assert harness.notifier.recipients() == ["alice"]


async def test_with_notifications_down_the_page_is_kept_and_delivered_exactly_once_when_back(harness):
    harness.oncall.configure("payments", levels=[(30, ["alice"])])
    harness.notifier.server.stop()
    incident = await harness.create()
    assert incident["assigned_to"] == uid("alice")
    report = await harness.tick()
    assert report.pages_retrying == 1
    detail = await harness.detail(incident["id"])
    [page] = detail["pages"]
    assert page["status"] == "pending"
    assert page["attempts"] == 1
    assert detail["timeline"][-1]["event_type"] == "page_failed"
    assert "kept" in detail["timeline"][-1]["message"]

    await harness.tick(minutes=2)
    await harness.tick(minutes=2)
    harness.notifier.server.start()
    await harness.tick(minutes=10)
    await harness.tick(minutes=10)
    await harness.tick(minutes=10)
    assert harness.notifier.recipients() == ["alice"]
    detail = await harness.detail(incident["id"])
    assert [p["status"] for p in detail["pages"]] == ["sent"]
    events = [e["event_type"] for e in detail["timeline"]]
    assert events.count("page_failed") == 1
    assert events.count("paged") == 1


async def test_a_page_lost_in_flight_is_resent_with_the_same_key_and_not_delivered_twice(harness):
    """A replica that crashed after notification-service accepted a page but before
    recording it: the lease runs out, the page is sent again with the same
    idempotency key, and notification-service returns the deliveries it already has."""
    harness.oncall.configure("payments", levels=[(30, ["alice"])])
    incident = await harness.create()
    await harness.tick()
    engine = sa.create_engine(harness.database_url.replace("postgresql://", "postgresql+psycopg://"))
    with engine.begin() as conn:
        conn.execute(sa.text("UPDATE incident_pages SET status = 'pending', attempts = 0, tracking = false"))
    engine.dispose()
    await harness.tick(minutes=2)  # past the claim lease of the "crashed" replica
    keys = harness.notifier.keys()
    assert len(keys) == 2 and keys[0] == keys[1]
    assert len(harness.notifier.deliveries) == 2, "one email and one slack delivery, not four"
    detail = await harness.detail(incident["id"])
    assert detail["pages"][0]["status"] == "sent"


async def test_delivery_results_are_pushed_into_the_timeline_without_polling(harness):
    harness.oncall.configure("payments", levels=[(30, ["alice"])])
    incident = await harness.create()
    await harness.tick()
    [request] = harness.notifier.requests
    assert request["callback_url"].endswith(f"/api/v1/incidents/{incident['id']}/deliveries")
    # Nothing is asked of notification-service after the page: its results come to us.
    answers = await harness.settle("delivered", recipient="alice")
    assert [a.status_code for a in answers] == [200, 200]
    assert [a.json()["recorded"] for a in answers] == [True, True]
    events = await harness.events(incident["id"])  # no tick: the push itself recorded them
    assert events.count("notified") == 2
    # A report is retried until taken, so it may come twice: recorded once.
    again = await harness.settle("delivered", recipient="alice")
    assert [a.json()["recorded"] for a in again] == [False, False]
    assert (await harness.events(incident["id"])).count("notified") == 2, "each result is recorded once"

    other = await harness.create(service="payments", title="second")
    await harness.tick()
    await harness.settle("failed", "SMTP 550 mailbox unavailable", incident_id=other["id"])
    detail = await harness.detail(other["id"])
    failed = [e for e in detail["timeline"] if e["event_type"] == "notification_failed"]
    assert len(failed) == 2
    assert "SMTP 550" in failed[0]["message"]
    assert detail["pages"][0]["notifications"][0]["status"] == "failed"


async def test_a_result_that_beats_the_notify_answer_is_kept_and_recorded_once(harness):
    harness.oncall.configure("payments", levels=[(30, ["alice"])])
    incident = await harness.create()
    [page] = (await harness.detail(incident["id"]))["pages"]
    delivery_id = "6f1c2a52-3b7e-4d55-9d0f-7f3f7b0c9a11"
    # notification-service delivered and reported before the page's 202 was recorded here.
    early = await harness.client.post(
        f"/api/v1/incidents/{incident['id']}/deliveries",
        json={"notification_id": delivery_id, "idempotency_key": page_key(incident), "status": "delivered"},
    )
    assert early.status_code == 200 and early.json()["recorded"] is True
    unknown = await harness.client.post(
        f"/api/v1/incidents/{incident['id']}/deliveries",
        json={"notification_id": delivery_id, "idempotency_key": "no-such-page", "status": "delivered"},
    )
    assert unknown.status_code == 404
    assert page["status"] == "pending"
    await harness.tick()
    detail = await harness.detail(incident["id"])
    assert detail["pages"][0]["status"] == "sent"
    assert [e["event_type"] for e in detail["timeline"]].count("notified") == 1
    assert delivery_id in {d["id"] for d in detail["pages"][0]["notifications"]}


async def test_a_batch_of_delivery_results_reads_its_pages_in_one_statement(harness):
    """Not a read per result (each read flushed the result before it: an insert and an
    update per result); a key of another incident's page is still that incident's 404."""
    harness.oncall.configure("payments", levels=[(30, ["alice"])])
    incidents = [await harness.create() for _ in range(3)]
    await harness.tick()
    reports = harness.notifier.settle("delivered", recipient="alice")
    assert len(reports) == 6  # an email and a slack delivery of each page
    items = [{**report["body"], "incident_id": report["url"].split("/")[-2]} for report in reports]
    elsewhere = {**items[0], "incident_id": next(i["id"] for i in incidents if i["id"] != items[0]["incident_id"])}
    reads: list[str] = []

    def count(_conn, _cursor, statement, *_args) -> None:
        if statement.startswith("SELECT") and "FROM incident_pages" in statement:
            reads.append(statement)

    sa.event.listen(harness.app.state.db.engine.sync_engine, "before_cursor_execute", count)
    answer = await harness.client.post("/api/v1/incidents/deliveries/batch", json={"items": [*items, elsewhere]})
    sa.event.remove(harness.app.state.db.engine.sync_engine, "before_cursor_execute", count)

    assert [r["status_code"] for r in answer.json()["results"]] == [200] * 6 + [404]
    assert [r["recorded"] for r in answer.json()["results"]][:6] == [True] * 6
    assert len(reads) == 2, "the batch's pages, then again for the batch with a refusal in it"
    for incident in incidents:
        assert (await harness.events(incident["id"])).count("notified") == 2


async def test_many_delivery_results_are_recorded_in_one_request_each_on_its_own(harness):
    """notification-service's batch of results: each item answered as the single route
    would (recorded, a repeat not recorded twice, an unknown page 404, an invalid one
    422), the valid ones recorded even beside the refused ones."""
    harness.oncall.configure("payments", levels=[(30, ["alice"])])
    incident = await harness.create()
    await harness.tick()
    reports = harness.notifier.settle("delivered", recipient="alice")
    items = [{**report["body"], "incident_id": incident["id"]} for report in reports]
    assert len(items) == 2  # one email and one slack delivery of the page
    unknown = {**items[0], "idempotency_key": "no-such-page"}
    invalid = {**items[0], "status": "lost"}
    answer = await harness.client.post("/api/v1/incidents/deliveries/batch", json={"items": [*items, unknown, invalid]})
    assert answer.status_code == 200, answer.text
    results = answer.json()["results"]
    assert [(r["status_code"], r["recorded"]) for r in results] == [(200, True), (200, True), (404, None), (422, None)]
    assert "status" in results[3]["detail"]
    assert (await harness.events(incident["id"])).count("notified") == 2
    # Retried until taken, so a batch may come twice: each result is recorded once.
    again = await harness.client.post("/api/v1/incidents/deliveries/batch", json={"items": items})
    assert [r["recorded"] for r in again.json()["results"]] == [False, False]
    assert (await harness.events(incident["id"])).count("notified") == 2
    detail = await harness.detail(incident["id"])
    assert {d["status"] for d in detail["pages"][0]["notifications"]} == {"delivered"}
    too_many = await harness.client.post("/api/v1/incidents/deliveries/batch", json={"items": items * 51})
    assert too_many.status_code == 422


def page_key(incident):
    return f"incident:{incident['id']}:level-0-cycle-0:{uid('alice')}"


async def test_pages_carry_the_contact_methods_of_the_on_call_answer(harness):
    harness.oncall.configure("payments", levels=[(30, ["alice"])])
    await harness.create()
    await harness.tick()
    [request] = harness.notifier.requests
    assert request["user_id"] == uid("alice")
    assert request["contact"] == {
        "name": "Alice",
        "contact_methods": [{"type": "email", "address": "alice@example.com"}],
        "muted_channels": [],
        "muted_severities": ["info"],
    }
    assert not [call for call in harness.oncall.calls if "user" in call], "the answer had them: no second lookup"


async def test_a_page_to_someone_chosen_by_hand_looks_their_contact_up_first(harness):
    carol = str(harness.user_id("carol"))
    incident = await harness.create(assigned_to=carol)
    await harness.tick()
    [request] = harness.notifier.requests
    assert request["user_id"] == carol
    assert request["contact"]["contact_methods"] == [{"type": "email", "address": f"{carol}@example.com"}]
    assert {"user": carol} in harness.oncall.calls
    assert (await harness.detail(incident["id"]))["pages"][0]["status"] == "sent"


async def test_a_page_refused_for_good_is_given_up_and_said_so(harness):
    harness.oncall.configure("payments", levels=[(30, ["alice"])])
    harness.notifier.reject = True
    incident = await harness.create()
    await harness.tick()
    await harness.tick(minutes=20)
    assert len(harness.notifier.requests) == 1
    detail = await harness.detail(incident["id"])
    assert detail["pages"][0]["status"] == "failed"
    assert detail["timeline"][-1]["event_type"] == "page_failed"
    assert "given up" in detail["timeline"][-1]["message"]


async def test_unknown_service_or_nobody_on_call_leaves_it_unassigned_with_the_reason(harness):
    unknown = await harness.create(service="nobody-knows")
    assert unknown["assigned_to"] is None
    assert unknown["needs_assignment"] is False, "not retried: it is configuration, not an outage"
    assert "knows no service" in (await harness.detail(unknown["id"]))["timeline"][-1]["message"]

    harness.oncall.configure("search", levels=[])
    empty = await harness.create(service="search")
    assert empty["assigned_to"] is None
    assert "Nobody is on call" in (await harness.detail(empty["id"]))["timeline"][-1]["message"]


async def test_acknowledging_before_the_page_goes_out_cancels_it(harness):
    harness.oncall.configure("payments", levels=[(30, ["alice"])])
    harness.notifier.server.stop()
    incident = await harness.create()
    await harness.tick()
    ack = (await harness.patch(incident["id"], status="acknowledged", actor="alice")).json()
    assert ack["next_escalation_at"] is None
    harness.notifier.server.start()
    await harness.tick(minutes=10)
    assert harness.notifier.requests == []
    detail = await harness.detail(incident["id"])
    assert [p["status"] for p in detail["pages"]] == ["cancelled"]


async def test_a_manual_assignee_is_paged_without_asking_oncall(harness):
    dave, erin = str(harness.user_id("dave")), str(harness.user_id("erin"))
    incident = await harness.create(assigned_to=dave)
    assert harness.oncall.calls == []
    await harness.tick()
    assert harness.notifier.recipients() == [dave]
    await harness.patch(incident["id"], status="acknowledged", actor="dave")
    await harness.patch(incident["id"], assigned_to=erin, actor="dave")
    await harness.tick()
    assert harness.notifier.recipients() == [dave, erin], "a handover is paged even after acknowledgement"


async def test_incidents_written_by_ingestions_fallback_are_picked_up_assigned_and_paged(harness):
    """alert-ingestion opens incidents through open_incident() while this service is down."""
    harness.oncall.configure("payments", levels=[(5, ["alice"])])
    incident_id = uuid.uuid4()
    url = harness.database_url.replace("postgresql://", "postgresql+psycopg://")
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        # The fallback's one way in: open_incident(), the function this service's create uses too.
        conn.execute(
            sa.text(
                "SELECT open_incident(:id, 'Disk full', '', 'payments', NULL, 'critical',"
                " 'ingestion_fallback', 'alert-ingestion', :now)"
            ),
            {"id": incident_id, "now": harness.clock.now()},
        )
    engine.dispose()
    await harness.tick()
    await harness.tick(seconds=1)
    detail = await harness.detail(str(incident_id))
    assert detail["assigned_to"] == uid("alice")
    assert detail["needs_assignment"] is False
    assert detail["origin"] == "ingestion_fallback"
    assert harness.notifier.recipients() == ["alice"]
    assert [(e["event_type"], e["actor"]) for e in detail["timeline"]] == [
        ("created", "alert-ingestion"),
        ("assigned", "incident-management"),
        ("paged", "incident-management"),
    ]


async def test_a_service_oncall_does_not_know_falls_back_to_the_incidents_team(harness):
    harness.oncall.configure("team:storage", levels=[(5, ["frank"])])
    incident = await harness.create(service="new-service", team="storage")
    assert incident["assigned_to"] == uid("frank")
    assert [(c["service"], c["team"]) for c in harness.oncall.calls] == [("new-service", ""), ("", "storage")]


async def test_oncall_is_asked_once_per_service_in_a_cycle(harness):
    harness.oncall.configure("payments", levels=[(5, ["alice"])])
    harness.oncall.server.stop()
    for n in range(3):
        await harness.create(title=f"incident {n}")
    harness.oncall.server.start()
    harness.oncall.calls.clear()
    report = await harness.tick(minutes=1)
    assert report.assigned == 3
    assert len(harness.oncall.calls) == 1


async def test_an_incident_resolved_while_oncall_was_down_is_neither_assigned_nor_paged_later(harness):
    harness.oncall.configure("payments", levels=[(5, ["alice"])])
    harness.oncall.server.stop()
    incident = await harness.create()
    resolved = (await harness.patch(incident["id"], status="resolved", actor="bob")).json()
    assert resolved["needs_assignment"] is False
    harness.oncall.server.start()
    await harness.tick(minutes=10)
    assert harness.oncall.calls == []
    assert harness.notifier.requests == []
