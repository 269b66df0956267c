"""The official `pagerduty` client, which only speaks https, pages the platform through the TLS front door."""

import ssl

import httpx
import pagerduty
import pytest

from platform_testing import wait_for

pytestmark = pytest.mark.e2e


def test_trigger_acknowledge_and_resolve_reach_the_incident(front_door, admin_headers):
    context = ssl.create_default_context(cafile=str(front_door.certificate))
    api = httpx.Client(base_url=front_door.https_url, headers=admin_headers, verify=context, timeout=10)
    created = api.post("/api/v1/integrations", json={"name": "pd-client", "service": "payments", "type": "pagerduty"})
    assert created.status_code == 201, created.text
    events = pagerduty.EventsApiV2Client(created.json()["key"], base_url=front_door.https_url, verify=context)

    dedup_key = events.trigger("Payments p99 above 2 s", "prometheus", dedup_key="payments-latency", severity="error")
    assert dedup_key == "payments-latency"

    def incident() -> dict | None:
        items = api.get("/api/v1/incidents", params={"service": "payments"}).json()["items"]
        return items[0] if items else None

    opened = wait_for(incident)
    assert (opened["status"], opened["title"]) == ("open", "Payments p99 above 2 s")

    events.acknowledge(dedup_key)
    acknowledged = wait_for(lambda: (found := incident())["status"] == "acknowledged" and found)
    assert acknowledged["id"] == opened["id"]
    assert acknowledged["mtta_seconds"] is not None

    events.resolve(dedup_key)
    resolved = wait_for(lambda: (found := incident())["status"] == "resolved" and found)
    assert resolved["id"] == opened["id"]
    assert resolved["mttr_seconds"] is not None


def test_the_client_refuses_plain_http_so_the_tls_front_is_needed(front_door):
    with pytest.raises(pagerduty.UrlError):
        pagerduty.EventsApiV2Client("any-key", base_url=front_door.http_url)
