"""The generator against a real alert-ingestion: its rate is changed over its HTTP API
while it runs, and the change shows in what the platform received."""

import time

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from platform_testing import PLATFORM_HEADERS, ServiceProcess, free_port

pytestmark = pytest.mark.e2e


def _received(ingestion: ServiceProcess) -> float:
    """Events the platform has processed: every one gets exactly one result."""
    text = httpx.get(f"{ingestion.url}/metrics", timeout=10).text
    return sum(
        s.value
        for family in text_string_to_metric_families(text)
        if family.name == "alerts_correlated"
        for s in family.samples
        if s.name == "alerts_correlated_total"
    )


def _rate_over(ingestion: ServiceProcess, events: int, timeout: float = 90) -> float:
    """Events per second while the next `events` arrive (waits for the count, not for a time)."""
    start_count, start = _received(ingestion), time.monotonic()
    while _received(ingestion) < start_count + events:
        assert time.monotonic() - start < timeout, "the generator stopped sending"
        time.sleep(0.2)
    return (_received(ingestion) - start_count) / (time.monotonic() - start)


def test_changing_the_rate_while_running_changes_what_the_platform_receives(clean_database):
    env = {
        "ENVIRONMENT": "test",
        "DATABASE_URL": clean_database,
        "INCIDENT_SERVICE_URL": f"http://127.0.0.1:{free_port()}",  # down: ingestion opens incidents itself
        "READINESS_INTERVAL_SECONDS": "60",
        "LOG_LEVEL": "WARNING",
    }
    with ServiceProcess("alert_ingestion", env) as ingestion:
        keys = []
        for service in ("payments", "search"):
            created = httpx.post(
                f"{ingestion.url}/api/v1/integrations",
                json={"name": f"gen-{service}", "service": service, "type": "pagerduty"},
                headers=PLATFORM_HEADERS,
            )
            assert created.status_code == 201, created.text
            keys.append(f"{service}={created.json()['key']}")
        generator_env = {"ALERTGEN_TARGET": ingestion.url, "ALERTGEN_KEYS": ",".join(keys), "ALERTGEN_RATE": "5"}
        with ServiceProcess("alert_generator", generator_env) as generator:
            api = f"{generator.url}/generator"
            slow = _rate_over(ingestion, 15)
            changed = httpx.patch(api, json={"events_per_second": 40}).json()
            assert changed["events_per_second"] == 40 and changed["running"]
            fast = _rate_over(ingestion, 120)
            # 8x asked; the measure only needs to show a clear change, not the exact figure.
            assert fast > 3 * slow, (slow, fast)

            state = httpx.post(f"{api}/stop").json()
            assert state["running"] is False  # its loop has ended: nothing more is sent
            assert state["sent"].get("trigger 202", 0) > 0
            assert all(key.endswith(" 202") for key in state["sent"]), state["sent"]
            # The stop answers once the sends under way have finished: the platform has
            # processed every event the generator counts, and not one more.
            assert _received(ingestion) == sum(state["sent"].values())

            refused = httpx.patch(api, json={"mix": {"services": {"unknown": 1}}})
            assert refused.status_code == 422 and "unknown" in refused.json()["detail"]
            assert httpx.patch(api, json={"events_per_second": -1}).status_code == 422
