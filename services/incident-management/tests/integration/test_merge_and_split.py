"""Merge and split through the API, on PostgreSQL: alerts move (nothing lost, each
saying why it moved), the merged incident is resolved with a link, the survivor keeps
its MTTA and MTTR, a split-out incident pages as a new one; and the notice that an
alert joined an acknowledged incident."""

import uuid
from datetime import timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from prometheus_client import REGISTRY

from incident_management.metrics import RESPONDER_ACTION_NAMES
from incident_management.workers.engine import CycleReport

from ..conftest import uid


def add_alerts(harness, incident_id: str, *severities: str) -> list[str]:
    """Alerts in the incident, as alert-ingestion's rule stores them (its table; written here as the owner)."""
    engine = sa.create_engine(harness.database_url.replace("postgresql://", "postgresql+psycopg://"))
    ids = []
    with engine.begin() as conn:
        for n, severity in enumerate(severities):
            alert_id = uuid.uuid4()
            conn.execute(
                sa.text(
                    "INSERT INTO alerts (id, incident_id, dedup_scope, format, source, service, severity, message,"
                    " fingerprint, status, action, received_at, reason)"
                    " VALUES (:id, :incident, 'scope', 'generic', 'test', 'payments', :severity, :message,"
                    " :fp, 'triggered', :action, :at, :reason)"
                ),
                {
                    "id": alert_id,
                    "incident": incident_id,
                    "severity": severity,
                    "message": f"{severity} alert {n} of {incident_id[:8]}",
                    "fp": f"fp-{alert_id}",
                    "action": "created" if n == 0 else "correlated",
                    "at": harness.clock.now(),
                    "reason": "first alert" if n == 0 else "same service and severity within 5 min",
                },
            )
            ids.append(str(alert_id))
    engine.dispose()
    return ids


async def post(harness, path: str, body: dict[str, Any], actor: str | None = "carol") -> Any:
    return await harness.client.post(path, json=body, headers=harness.as_user(actor))


async def test_merge_moves_every_alert_resolves_the_merged_and_keeps_the_survivors_mtta_and_mttr(harness):
    harness.oncall.configure("payments", levels=[(5, ["alice"])])
    survivor = await harness.create(title="Payment gateway 5xx")
    add_alerts(harness, survivor["id"], "high")
    merged = await harness.create(title="Checkout pods OOMKilled")
    merged_alerts = add_alerts(harness, merged["id"], "high", "high")
    harness.clock.advance(timedelta(seconds=60))
    assert (await harness.patch(survivor["id"], status="acknowledged")).status_code == 200
    harness.clock.advance(timedelta(seconds=30))

    response = await post(harness, f"/api/v1/incidents/{survivor['id']}/merge", {"incident_ids": [merged["id"]]})
    assert response.status_code == 200, response.text
    assert response.json()["id"] == survivor["id"]
    after = await harness.detail(survivor["id"])
    gone = await harness.detail(merged["id"])
    # Nothing lost: every alert is in the survivor, saying why.
    assert after["alert_count"] == 3 and gone["alert_count"] == 0
    moved = {a["id"]: a for a in after["alerts"]}
    assert {moved[a]["reason"] for a in merged_alerts} == {'merged from "Checkout pods OOMKilled" by carol'}
    # The merged incident is resolved with a link; the survivor keeps its own times.
    assert (gone["status"], gone["merged_into"]) == ("resolved", survivor["id"])
    assert (after["status"], after["mtta_seconds"], after["mttr_seconds"]) == ("acknowledged", 60.0, None)
    assert after["created_at"] == survivor["created_at"]
    events = [(e["event_type"], e["message"]) for e in after["timeline"] if e["event_type"] == "merged"]
    assert events == [("merged", 'Merged "Checkout pods OOMKilled" into this incident by carol (2 alerts)')]
    assert [e["message"] for e in gone["timeline"] if e["event_type"] == "merged_into"] == [
        'Merged into "Payment gateway 5xx" by carol (2 alerts moved)'
    ]
    # Resolving the survivor later: MTTR from its own opening.
    harness.clock.advance(timedelta(seconds=30))
    resolved = (await harness.patch(survivor["id"], status="resolved")).json()
    assert resolved["mttr_seconds"] == 120.0


@pytest.mark.parametrize(
    ("target", "body", "status"),
    [
        ("survivor", {"incident_ids": ["survivor"]}, 422),
        ("survivor", {"incident_ids": ["unknown"]}, 422),
        ("survivor", {"incident_ids": ["resolved"]}, 409),
        ("unknown", {"incident_ids": ["other"]}, 404),
        ("survivor", {"incident_ids": []}, 422),
        ("survivor", {"incident_ids": ["not-a-uuid"]}, 422),
    ],
)
async def test_merge_refuses_what_cannot_be_merged(harness, target, body, status):
    ids = {
        "survivor": (await harness.create())["id"],
        "other": (await harness.create())["id"],
        "resolved": (await harness.create())["id"],
        "unknown": str(uuid.uuid4()),
        "not-a-uuid": "not-a-uuid",
    }
    await harness.patch(ids["resolved"], status="resolved")
    body = {"incident_ids": [ids[name] for name in body["incident_ids"]]}
    response = await post(harness, f"/api/v1/incidents/{ids[target]}/merge", body)
    assert response.status_code == status, response.text
    assert response.json()["detail"]


async def test_split_moves_the_chosen_alerts_into_a_new_incident_that_pages(harness):
    harness.oncall.configure("payments", levels=[(5, ["alice"])])
    incident = await harness.create(title="Search latency SLO burn", severity="high")
    slo, _, disk = add_alerts(harness, incident["id"], "high", "high", "critical")
    await harness.tick()
    assert (await harness.patch(incident["id"], status="acknowledged")).status_code == 200
    harness.notifier.requests.clear()

    response = await post(harness, f"/api/v1/incidents/{incident['id']}/split", {"alert_ids": [disk]})
    assert response.status_code == 201, response.text
    new = response.json()
    assert new["id"] != incident["id"]
    assert (new["title"], new["severity"], new["status"]) == (
        f"critical alert 2 of {incident['id'][:8]}",
        "critical",
        "open",
    )
    source, split = await harness.detail(incident["id"]), await harness.detail(new["id"])
    assert (source["alert_count"], split["alert_count"]) == (2, 1)
    assert [a["id"] for a in split["alerts"]] == [disk]
    assert split["alerts"][0]["reason"] == 'split out of "Search latency SLO burn" by carol'
    assert any(e["event_type"] == "split" and "1 alert split out" in e["message"] for e in source["timeline"])
    assert any(e["event_type"] == "split_from" for e in split["timeline"])
    # It pages as a new incident: assigned by on-call and paged.
    await harness.engine.assign_due(CycleReport())
    await harness.tick()
    # Pages only: the acknowledgement's notice to alice, who was paged, goes out too.
    paged = [r for r in harness.notifier.requests if r["event"] != "acknowledged"]
    assert [(r["incident"]["id"], r["event"]) for r in paged] == [(new["id"], "triggered")]
    assert paged[0]["user_id"] == uid("alice")
    assert slo in {a["id"] for a in source["alerts"]}


@pytest.mark.parametrize("choice", ["all", "foreign", "none"])
async def test_split_refuses_all_alerts_foreign_alerts_or_none(harness, choice):
    incident = await harness.create()
    own = add_alerts(harness, incident["id"], "high", "high")
    other = await harness.create()
    foreign = add_alerts(harness, other["id"], "high")
    chosen = {"all": own, "foreign": [own[0], *foreign], "none": []}[choice]
    response = await post(harness, f"/api/v1/incidents/{incident['id']}/split", {"alert_ids": chosen})
    assert response.status_code == 422, response.text
    assert (await harness.detail(incident["id"]))["alert_count"] == 2


async def test_a_resolved_incident_is_not_split(harness):
    incident = await harness.create()
    first, _ = add_alerts(harness, incident["id"], "high", "high")
    await harness.patch(incident["id"], status="resolved")
    response = await post(harness, f"/api/v1/incidents/{incident['id']}/split", {"alert_ids": [first]})
    assert response.status_code == 409


async def test_an_alert_joining_an_acknowledged_incident_is_recorded_once_and_the_assignee_notified(harness):
    harness.oncall.configure("payments", levels=[(5, ["alice"])])
    incident = await harness.create()
    await harness.tick()
    assert (await harness.patch(incident["id"], status="acknowledged")).status_code == 200
    _, joined = add_alerts(harness, incident["id"], "high", "high")
    harness.notifier.requests.clear()

    path = f"/api/v1/incidents/{incident['id']}/alert-joined"
    first = await post(harness, path, {"alert_id": joined}, actor=None)
    assert first.json() == {"recorded": True, "notified": True}
    assert (await post(harness, path, {"alert_id": joined}, actor=None)).json() == {
        "recorded": False,
        "notified": False,
    }
    # Only the platform reports it.
    assert (await post(harness, path, {"alert_id": joined}, actor="carol")).status_code == 403
    await harness.tick()
    # The acknowledgement's own notice to alice, who was paged, aside.
    [notice] = [r for r in harness.notifier.requests if r["event"] != "acknowledged"]
    assert notice["user_id"] == uid("alice")
    # A notice of its own kind: the incident is acknowledged, so nothing offers to acknowledge it.
    assert notice["event"] == "alert_joined"
    assert notice["message"].startswith(
        f'A new alert "high alert 1 of {incident["id"][:8]}" joined this incident (already acknowledged by '
    )
    entries = [e for e in (await harness.detail(incident["id"]))["timeline"] if e["event_type"] == "alert_joined"]
    assert len(entries) == 1 and entries[0]["message"].endswith(
        f"; {uid('alice')} notified"
    )  # no such user here: named by id


async def test_snoozes_merges_splits_and_bulk_changes_are_counted_in_incidents(harness):
    """incident_responder_actions_total, behind the Noise row's panel: refusals count nothing."""

    def counted() -> dict[str, float]:
        return {
            action: REGISTRY.get_sample_value("incident_responder_actions_total", {"action": action}) or 0.0
            for action in RESPONDER_ACTION_NAMES
        }

    before = counted()
    survivor, one, two, three = [await harness.create(title=f"i{n}") for n in range(4)]
    _, out = add_alerts(harness, survivor["id"], "high", "high")
    bulk = {"ids": [survivor["id"], one["id"], str(uuid.uuid4())], "action": "acknowledge"}
    assert [r["status"] for r in (await post(harness, "/api/v1/incidents/bulk", bulk)).json()["results"]] == [
        200,
        200,
        404,
    ]
    assert (await post(harness, f"/api/v1/incidents/{one['id']}/snooze", {"minutes": 10})).status_code == 200
    assert (await post(harness, f"/api/v1/incidents/{two['id']}/snooze", {"minutes": 10})).status_code == 409
    merge = {"incident_ids": [two["id"], three["id"]]}
    assert (await post(harness, f"/api/v1/incidents/{survivor['id']}/merge", merge)).status_code == 200
    split = {"alert_ids": [out]}
    assert (await post(harness, f"/api/v1/incidents/{survivor['id']}/split", split)).status_code == 201
    after = counted()
    assert {action: after[action] - before[action] for action in RESPONDER_ACTION_NAMES} == {
        "snoozed": 1,
        "merged": 2,
        "split": 1,
        "bulk_acknowledge": 2,
        "bulk_resolve": 0,
        "bulk_reassign": 0,
    }
