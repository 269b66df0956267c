"""Finding incidents by text, acting on many at once, and snoozing one."""

import json
import re
import uuid

import sqlalchemy as sa

from ..conftest import START


def _alert(database_url: str, incident_id: str, *, source: str, labels: dict) -> None:
    """An alert of the incident as alert-ingestion stores it (written as the schema's owner)."""
    engine = sa.create_engine(database_url.replace("postgresql://", "postgresql+psycopg://", 1))
    with engine.begin() as conn:
        conn.execute(
            sa.text(
                "INSERT INTO alerts (id, incident_id, dedup_scope, format, source, service, severity, message,"
                " labels, fingerprint, status, action, received_at)"
                " VALUES (:id, :incident, 'service:x', 'generic', :source, 'x', 'high', 'm', CAST(:labels AS json),"
                " :fp, 'triggered', 'correlated', :now)"
            ),
            {
                "id": uuid.uuid4(),
                "incident": incident_id,
                "source": source,
                "labels": json.dumps(labels),
                "fp": uuid.uuid4().hex,
                "now": START,
            },
        )
    engine.dispose()


async def _titles(harness, **params) -> list[str]:
    response = await harness.client.get("/api/v1/incidents", params=params)
    assert response.status_code == 200, response.text
    return sorted(i["title"] for i in response.json()["items"])


async def test_search_matches_title_service_source_and_labels_in_any_case(harness):
    disk = await harness.create(title="Disk 95% on db-02", service="storage")
    checkout = await harness.create(title="Checkout pods OOMKilled", service="payments")
    await harness.create(title="Search latency SLO burn", service="search")
    _alert(harness.database_url, checkout["id"], source="prometheus-eu", labels={"cluster": "kube-west-7"})

    assert await _titles(harness, q="oomkill") == ["Checkout pods OOMKilled"]
    assert await _titles(harness, q="STORAGE") == ["Disk 95% on db-02"]
    assert await _titles(harness, q="kube-west") == ["Checkout pods OOMKilled"], "a label value"
    assert await _titles(harness, q="prometheus-eu") == ["Checkout pods OOMKilled"], "an alert's source"
    assert await _titles(harness, q="95%") == ["Disk 95% on db-02"], "% is a character, not a wildcard"
    assert await _titles(harness, q="9_%") == [], "_ too"
    assert await _titles(harness, q="nothing like this") == []
    assert await _titles(harness, q="  db-02 ", service="storage") == ["Disk 95% on db-02"]
    assert await _titles(harness, q="db-02", service="payments") == [], "search and filters combine"
    assert disk["id"] != checkout["id"]
    too_long = await harness.client.get("/api/v1/incidents", params={"q": "x" * 201})
    assert too_long.status_code == 422


async def test_search_uses_the_trigram_indexes(harness):
    """The plan of the search query reads the two indexes made for it, not every row."""
    from incident_management.db.queries import _matching

    engine = sa.create_engine(harness.database_url.replace("postgresql://", "postgresql+psycopg://", 1))
    with engine.begin() as conn:
        conn.execute(sa.text("SET LOCAL enable_seqscan = off"))
        compiled = _matching("kube-west").compile(engine, compile_kwargs={"literal_binds": True})
        plan = "\n".join(row[0] for row in conn.execute(sa.text(f"EXPLAIN {compiled}")))
    engine.dispose()
    # Alerts are partitioned by month (migration 0019_alert_partitions): each partition's copy of
    # ix_alerts_search is named after the partition, alerts_pYYYYMM_expr_idx.
    indexes = re.findall(r"Bitmap Index Scan on (\S+)", plan)
    alert_indexes = [name for name in indexes if name != "ix_incidents_search"]
    assert "ix_incidents_search" in indexes and alert_indexes and "Seq Scan" not in plan, plan
    assert all(re.fullmatch(r"alerts_(p[0-9]{6}|default)_expr_idx", name) for name in alert_indexes), plan


async def test_assigned_to_me_is_the_callers_own(harness):
    mine = await harness.create(title="mine", assigned_to=str(harness.user_id("ann")))
    await harness.create(title="theirs", assigned_to=str(harness.user_id("bob")))
    response = await harness.client.get("/api/v1/incidents", params={"assignee": "me"}, headers=harness.as_user("ann"))
    assert [i["id"] for i in response.json()["items"]] == [mine["id"]]
    platform = await harness.client.get("/api/v1/incidents", params={"assignee": "me"})
    assert platform.status_code == 422, "the platform is nobody's 'me'"


async def test_bulk_acknowledge_answers_each_incident_and_commits_the_rest(harness):
    one, two, three = [await harness.create(title=f"i{n}") for n in range(3)]
    assert (await harness.patch(two["id"], status="resolved")).status_code == 200
    missing = str(uuid.uuid4())
    body = {"ids": [one["id"], two["id"], three["id"], missing], "action": "acknowledge"}
    response = await harness.client.post("/api/v1/incidents/bulk", json=body, headers=harness.as_user("ann"))
    assert response.status_code == 200, response.text
    answer = response.json()
    assert [r["status"] for r in answer["results"]] == [200, 409, 200, 404]
    assert answer["succeeded"] == 2 and answer["failed"] == 2
    assert "resolved" in answer["results"][1]["detail"]
    assert (await harness.detail(one["id"]))["status"] == "acknowledged"
    assert (await harness.detail(three["id"]))["status"] == "acknowledged"
    assert (await harness.detail(two["id"]))["status"] == "resolved"
    assert (await harness.detail(one["id"]))["timeline"][-1]["actor"] == "ann"


async def test_bulk_resolve_and_reassign(harness):
    one, two = [await harness.create(title=f"i{n}") for n in range(2)]
    bob = str(harness.user_id("bob"))
    reassign = {"ids": [one["id"], two["id"]], "action": "reassign", "assigned_to": bob}
    answer = (await harness.client.post("/api/v1/incidents/bulk", json=reassign)).json()
    assert [r["incident"]["assigned_to"] for r in answer["results"]] == [bob, bob]
    resolve = {"ids": [one["id"], two["id"]], "action": "resolve"}
    answer = (await harness.client.post("/api/v1/incidents/bulk", json=resolve)).json()
    assert [r["incident"]["status"] for r in answer["results"]] == ["resolved", "resolved"]
    nobody = {"ids": [one["id"]], "action": "reassign", "assigned_to": str(uuid.uuid4())}
    assert (await harness.client.post("/api/v1/incidents/bulk", json=nobody)).json()["results"][0]["status"] == 422


async def test_bulk_refuses_bad_requests_with_422(harness):
    post = harness.client.post
    assert (await post("/api/v1/incidents/bulk", json={"ids": [], "action": "resolve"})).status_code == 422
    same = str(uuid.uuid4())
    assert (await post("/api/v1/incidents/bulk", json={"ids": [same, same], "action": "resolve"})).status_code == 422
    assert (await post("/api/v1/incidents/bulk", json={"ids": [same], "action": "reassign"})).status_code == 422
    wrong = {"ids": [same], "action": "resolve", "assigned_to": same}
    assert (await post("/api/v1/incidents/bulk", json=wrong)).status_code == 422
    assert (await post("/api/v1/incidents/bulk", json={"ids": [same], "action": "delete"})).status_code == 422


async def test_a_snoozed_incident_reopens_and_pages_its_assignee_again_when_the_snooze_ends(harness):
    harness.oncall.configure("payments", levels=[(5, ["alice"])])
    incident = await harness.create()
    await harness.tick()
    assert harness.notifier.recipients("triggered") == ["alice"]
    acked = await harness.patch(incident["id"], status="acknowledged")
    mtta = acked.json()["mtta_seconds"]

    snoozed = await harness.client.post(f"/api/v1/incidents/{incident['id']}/snooze", json={"minutes": 30})
    assert snoozed.status_code == 200, snoozed.text
    assert snoozed.json()["snoozed_until"] is not None

    await harness.tick(minutes=29)
    assert (await harness.detail(incident["id"]))["status"] == "acknowledged"
    assert harness.notifier.recipients("triggered") == ["alice"]

    report = await harness.tick(minutes=2)
    assert report.reopened == 1
    detail = await harness.detail(incident["id"])
    assert detail["status"] == "open" and detail["snoozed_until"] is None
    assert harness.notifier.recipients("triggered") == ["alice", "alice"], "paged again"
    assert [e for e in await harness.events(incident["id"]) if "snooze" in e] == ["snoozed", "snooze_ended"]

    again = await harness.patch(incident["id"], status="acknowledged")
    assert again.json()["mtta_seconds"] == mtta, "MTTA is the first acknowledgement's"
    await harness.tick(minutes=60)
    assert harness.notifier.recipients("triggered") == ["alice", "alice"], "one page per snooze's end"
    # Each acknowledgement (here by the platform) is told to alice, who was paged.
    assert harness.notifier.recipients("acknowledged") == ["alice", "alice"]


async def test_only_an_acknowledged_incident_may_be_snoozed(harness):
    incident = await harness.create()
    url = f"/api/v1/incidents/{incident['id']}/snooze"
    refused = await harness.client.post(url, json={"minutes": 10})
    assert refused.status_code == 409 and refused.json()["current_status"] == "open"
    assert (await harness.client.post(url, json={"minutes": 0})).status_code == 422
    assert (await harness.client.post(url, json={"minutes": 10081})).status_code == 422
    missing = await harness.client.post(f"/api/v1/incidents/{uuid.uuid4()}/snooze", json={"minutes": 5})
    assert missing.status_code == 404


async def test_an_incident_resolved_while_snoozed_stays_resolved(harness):
    incident = await harness.create()
    await harness.patch(incident["id"], status="acknowledged")
    await harness.client.post(f"/api/v1/incidents/{incident['id']}/snooze", json={"minutes": 5})
    await harness.patch(incident["id"], status="resolved")
    await harness.tick(minutes=10)
    detail = await harness.detail(incident["id"])
    assert detail["status"] == "resolved" and detail["snoozed_until"] is None
