"""Alertmanager (version 4) and Grafana webhooks: every alert of the group, firing and resolved."""

import pytest


def am_alert(name: str, status: str = "firing", fingerprint: str | None = None, **labels: str) -> dict:
    alert = {
        "status": status,
        "labels": {"alertname": name, "instance": "db-1:9100", "severity": "critical"} | labels,
        "annotations": {"summary": f"{name} on db-1"},
        "startsAt": "2026-11-23T10:00:00.123456789Z",
        "endsAt": "2026-11-23T10:05:00Z" if status == "resolved" else "0001-01-01T00:00:00Z",
        "generatorURL": "http://prometheus:9090/graph",
    }
    if fingerprint:
        alert["fingerprint"] = fingerprint
    return alert


def am_webhook(*alerts: dict, status: str = "firing") -> dict:
    return {
        "version": "4",
        "groupKey": '{}:{alertname="DiskFull"}',
        "truncatedAlerts": 0,
        "status": status,
        "receiver": "platform",
        "groupLabels": {"alertname": "DiskFull"},
        "commonLabels": {},
        "commonAnnotations": {},
        "externalURL": "http://alertmanager:9093",
        "alerts": list(alerts),
    }


def bearer(key: str) -> dict:
    return {"Authorization": f"Bearer {key}"}


async def test_alertmanager_group_opens_one_incident_per_service_severity(client, db, integration_key):
    key = await integration_key(client, service="storage", type_="alertmanager")
    body = am_webhook(am_alert("DiskFull", fingerprint="aaa1"), am_alert("InodesLow", fingerprint="bbb2"))
    response = await client.post("/api/v1/webhooks/alertmanager", json=body, headers=bearer(key))

    assert response.status_code == 202
    results = response.json()["alerts"]
    assert [r["action"] for r in results] == ["created", "correlated"]
    assert [r["fingerprint"] for r in results] == ["aaa1", "bbb2"]
    assert results[0]["incident_id"] == results[1]["incident_id"]
    [incident] = await db.all_incidents_opened()
    assert (str(incident.id), incident.service, incident.severity, incident.alert_count) == (
        results[0]["incident_id"],
        "storage",
        "critical",
        2,
    )
    assert incident.title == "DiskFull on db-1"


async def test_alertmanager_resend_is_idempotent_and_resolved_resolves(client, db, integration_key, wait_for):
    key = await integration_key(client, service="storage", type_="alertmanager")
    firing = am_webhook(am_alert("DiskFull", fingerprint="aaa1"))
    await client.post("/api/v1/webhooks/alertmanager", json=firing, headers=bearer(key))
    # Alertmanager repeats the group (repeat_interval, HA peers): deduplicated.
    again = await client.post("/api/v1/webhooks/alertmanager", json=firing, headers=bearer(key))
    assert again.json()["alerts"][0]["action"] == "deduplicated"
    [incident] = await db.all_incidents_opened()
    assert incident.alert_count == 2

    resolved = am_webhook(am_alert("DiskFull", "resolved", fingerprint="aaa1"), status="resolved")
    response = await client.post("/api/v1/webhooks/alertmanager", json=resolved, headers=bearer(key))
    assert response.json()["alerts"][0]["action"] == "resolved"
    assert await wait_for(lambda: db.scalar("SELECT status FROM incidents") == "resolved")
    assert db.scalar("SELECT sum(trigger_count) FROM alerts WHERE status = 'resolved'") == 2  # one row, sent twice


async def test_alerts_without_fingerprint_are_keyed_by_their_labels(client, db, integration_key):
    key = await integration_key(client, service="storage", type_="alertmanager")
    body = am_webhook(am_alert("DiskFull", severity="warning"))
    first = (await client.post("/api/v1/webhooks/alertmanager", json=body, headers=bearer(key))).json()["alerts"][0]
    second = (await client.post("/api/v1/webhooks/alertmanager", json=body, headers=bearer(key))).json()["alerts"][0]
    assert second["fingerprint"] == first["fingerprint"]
    assert second["action"] == "deduplicated"
    [incident] = await db.all_incidents_opened()
    assert (incident.severity, incident.alert_count) == ("medium", 2)


async def test_a_key_in_the_query_string_is_not_taken(client, db, integration_key):
    """URLs are logged on their way (proxies, the front door's error log): a key
    there is no key, and the answer says where it goes."""
    key = await integration_key(client, type_="alertmanager")
    for path in ("/api/v1/webhooks/alertmanager", "/api/v1/alerts"):
        response = await client.post(
            path,
            params={"integration_key": key},
            json=am_webhook(am_alert("X")),
            headers={"Authorization": ""},  # no header: the key in the URL only
        )
        assert response.status_code == 401, path
        assert "Authorization: Bearer" in response.json()["detail"]
    assert db.scalar("SELECT count(*) FROM alerts") == 0


async def test_grafana_webhook(client, db, integration_key, wait_for):
    key = await integration_key(client, service="frontend", type_="grafana")
    alert = {
        "status": "firing",
        "labels": {"alertname": "HighErrorRate", "grafana_folder": "web", "severity": "warning"},
        "annotations": {"summary": "5xx above 5%"},
        "startsAt": "2026-11-23T10:00:00Z",
        "endsAt": "0001-01-01T00:00:00Z",
        "generatorURL": "http://grafana/alerting/grafana/abc/view",
        "fingerprint": "f00dfeed",
        "silenceURL": "http://grafana/alerting/silence/new",
        "dashboardURL": "",
        "panelURL": "",
        "values": {"B": 7.5},
        "valueString": "[ var='B' value=7.5 ]",
    }
    body = {
        "receiver": "platform",
        "status": "firing",
        "orgId": 1,
        "alerts": [alert],
        "groupLabels": {"alertname": "HighErrorRate"},
        "commonLabels": {},
        "commonAnnotations": {},
        "externalURL": "http://grafana/",
        "version": "1",
        "groupKey": '{}:{alertname="HighErrorRate"}',
        "truncatedAlerts": 0,
        "title": "[FIRING:1] HighErrorRate",
        "state": "alerting",
        "message": "**Firing**",
    }
    response = await client.post("/api/v1/webhooks/grafana", json=body, headers=bearer(key))
    assert response.status_code == 202
    assert response.json()["alerts"][0]["action"] == "created"
    row = db.rows("SELECT format, severity, service, message FROM alerts")[0]
    assert tuple(row) == ("grafana", "medium", "frontend", "5xx above 5%")
    [incident] = await db.all_incidents_opened()
    assert (incident.service, incident.severity, incident.status) == ("frontend", "medium", "open")

    body["status"] = "resolved"
    body["alerts"][0] = alert | {"status": "resolved", "endsAt": "2026-11-23T10:10:00Z"}
    await client.post("/api/v1/webhooks/grafana", json=body, headers=bearer(key))
    assert await wait_for(lambda: db.scalar("SELECT status FROM incidents") == "resolved")


@pytest.mark.parametrize("path", ["/api/v1/webhooks/alertmanager", "/api/v1/webhooks/grafana"])
async def test_webhooks_refuse_missing_and_unknown_keys(client, db, path):
    body = am_webhook(am_alert("X"))
    assert (await client.post(path, json=body)).status_code == 401
    assert (await client.post(path, json=body, headers=bearer("nope"))).status_code == 401
    assert db.scalar("SELECT count(*) FROM alerts") == 0


@pytest.mark.parametrize(
    "body",
    [
        {"version": "4", "alerts": []},
        {"version": "4"},
        {"version": "4", "alerts": [{"status": "pending", "labels": {"a": "b"}}]},
        {"version": "4", "alerts": [{"status": "firing", "labels": {}}]},
        {"version": "4", "alerts": [{"status": "firing", "labels": {"a": 1}}]},
        {"version": "4", "alerts": [{"status": "firing", "labels": {"a": "b"}, "startsAt": "soon"}]},
        # One bad alert refuses the whole group: nothing is stored half-way.
        {"version": "4", "alerts": [am_alert("Good"), {"status": "firing"}]},
    ],
)
async def test_invalid_webhook_bodies_are_422_and_store_nothing(client, db, integration_key, body):
    key = await integration_key(client, type_="alertmanager")
    response = await client.post("/api/v1/webhooks/alertmanager", json=body, headers=bearer(key))
    assert response.status_code == 422
    assert isinstance(response.json()["detail"], list)
    assert db.scalar("SELECT count(*) FROM alerts") == 0


async def test_malformed_webhook_json_is_400(client, integration_key):
    key = await integration_key(client, type_="alertmanager")
    response = await client.post(
        "/api/v1/webhooks/alertmanager", content=b"{nope", headers=bearer(key) | {"content-type": "application/json"}
    )
    assert response.status_code == 400
    assert "Malformed" in response.json()["detail"]
