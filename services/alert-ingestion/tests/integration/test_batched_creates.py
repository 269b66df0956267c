"""The creates ingestion owes incident-management go together: the real
incident-management's `POST /api/v1/incidents/batch`, one request for the
incidents claimed together; each incident it does not take is opened by the
database fallback on its own, and each incident's later actions follow its create."""

from .test_fallback import fallbacks
from .test_webhooks import am_alert, am_webhook, bearer

CREATES = "SELECT incident_id::text AS id, status, last_error FROM alert_incident_actions WHERE action = 'create'"


def _group(count: int, status: str = "firing", **annotations: str) -> dict:
    alerts = [am_alert(f"Disk{n}Full", status=status, fingerprint=f"fp{n:04d}") for n in range(count)]
    for alert in alerts:
        alert["annotations"] |= annotations
    return am_webhook(*alerts, status=status)


def _batches(incident_service) -> list[list[str]]:
    """The ids of each batch create ingestion sent, in the order sent."""
    return [
        [item["id"] for item in body["items"]]
        for method, path, body in incident_service.sent()
        if (method, path) == ("POST", "/api/v1/incidents/batch")
    ]


async def test_a_group_of_new_incidents_is_opened_in_one_request_and_their_resolves_follow(
    make_client, db, incident_service, integration_key, wait_for
):
    # Slow enough that the resolves below are owed while the creates are still being sent.
    incident_service.mode = "slow"
    incident_service.delay = 0.5
    async with make_client(correlation_window_minutes=0, incident_create_timeout_seconds=5) as client:
        key = await integration_key(client, service="storage", type_="alertmanager")
        firing = await client.post("/api/v1/webhooks/alertmanager", json=_group(12), headers=bearer(key))
        assert firing.status_code == 202
        ids = [a["incident_id"] for a in firing.json()["alerts"]]
        assert len(set(ids)) == 12
        resolved = await client.post(
            "/api/v1/webhooks/alertmanager", json=_group(12, status="resolved"), headers=bearer(key)
        )
        assert resolved.status_code == 202
        assert await wait_for(lambda: {i.status for i in db.incidents()} == {"resolved"} and len(db.incidents()) == 12)

    # The first creates go at once, the ones owed while they are being sent together (how many
    # the first request takes depends on the machine's pace): each once, in order, few requests.
    batches = _batches(incident_service)
    assert [incident for batch in batches for incident in batch] == ids
    assert len(batches) <= 3, batches
    assert {i.origin for i in db.incidents()} == {"api"}, "incident-management opened each"
    assert {(r.status, r.last_error) for r in db.rows(CREATES)} == {("done", None)}
    # Each incident's resolve went after its create (it waited for it, not for the loop's next turn).
    sent = incident_service.sent()
    created_at = {
        item["id"]: n for n, (_, path, body) in enumerate(sent) if path.endswith("/batch") for item in body["items"]
    }
    resolved_at = {path.rsplit("/", 1)[1]: n for n, (method, path, _) in enumerate(sent) if method == "PATCH"}
    assert sorted(resolved_at) == sorted(ids)
    assert all(created_at[i] < resolved_at[i] for i in ids)
    timeline = db.rows("SELECT DISTINCT actor FROM incident_timeline WHERE event_type = 'created'")
    assert [row.actor for row in timeline] == ["integration storage alertmanager"]


async def test_while_incident_management_is_down_each_create_of_a_batch_is_opened_by_the_fallback(
    make_client, db, incident_service, integration_key, wait_for
):
    async with make_client(correlation_window_minutes=0) as client:
        key = await integration_key(client, service="storage", type_="alertmanager")
        before = fallbacks((await client.get("/metrics")).text)
        incident_service.stop()
        answer = await client.post("/api/v1/webhooks/alertmanager", json=_group(5), headers=bearer(key))
        down_ids = [a["incident_id"] for a in answer.json()["alerts"]]
        await db.all_incidents_opened()
        assert await wait_for(lambda: len(db.rows(CREATES + " AND status = 'done'")) == 5)
        assert {str(i.id): i.origin for i in db.incidents()} == dict.fromkeys(down_ids, "ingestion_fallback")
        assert all("fallback" in r.last_error for r in db.rows(CREATES))
        assert fallbacks((await client.get("/metrics")).text) == before + 5

        # Back up: the next group goes through incident-management again.
        incident_service.start()
        group = am_webhook(*(am_alert(f"Cpu{n}", fingerprint=f"cpu{n}") for n in range(3)))
        answer = await client.post("/api/v1/webhooks/alertmanager", json=group, headers=bearer(key))
        up_ids = [a["incident_id"] for a in answer.json()["alerts"]]
        assert await wait_for(lambda: len(db.rows(CREATES + " AND status = 'done'")) == 8)
        assert [i for batch in _batches(incident_service) for i in batch] == up_ids
        origins = {str(i.id): i.origin for i in db.incidents()}
        assert [origins[i] for i in up_ids] == ["api"] * 3
        assert fallbacks((await client.get("/metrics")).text) == before + 5
    assert len(db.incidents()) == 8, "nothing lost, nothing twice"
