"""With INGEST_WORKERS > 1 every scrape reports the whole service: the workers'
samples are summed (prometheus_client's multiprocess mode), whichever worker answers."""

import asyncio

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from platform_testing import PLATFORM_HEADERS, ServiceProcess, as_service

pytestmark = pytest.mark.e2e

ALERTS = 60


def _total(text: str, family_name: str, **labels: str) -> float:
    return sum(
        sample.value
        for family in text_string_to_metric_families(text)
        if family.name == family_name
        for sample in family.samples
        if sample.name.endswith("_total") and labels.items() <= sample.labels.items()
    )


async def test_every_scrape_counts_the_alerts_of_all_workers(clean_database, incident_process, tmp_path):
    env = {
        "ENVIRONMENT": "test",
        "DATABASE_URL": as_service(clean_database, "alert_ingestion"),
        "INCIDENT_SERVICE_URL": incident_process.url,
        "INGEST_WORKERS": "2",
        "PROMETHEUS_MULTIPROC_DIR": str(tmp_path / "metrics"),
        "READINESS_INTERVAL_SECONDS": "60",
        "LOG_LEVEL": "WARNING",
    }
    with ServiceProcess("alert_ingestion", env) as ingestion:
        async with httpx.AsyncClient(headers=PLATFORM_HEADERS, timeout=30) as http:
            keys = [
                (
                    await http.post(
                        f"{ingestion.url}/api/v1/integrations",
                        json={"name": f"svc-{n}", "service": f"svc-{n}", "type": "generic"},
                    )
                ).json()["key"]
                for n in range(7)
            ]

        async def send(i: int) -> None:
            # A connection each, so the kernel spreads them over both workers.
            async with httpx.AsyncClient(headers={"Authorization": f"Bearer {keys[i % 7]}"}, timeout=30) as http:
                body = {"service": f"svc-{i % 7}", "severity": "high", "message": f"alert {i}"}
                response = await http.post(f"{ingestion.url}/api/v1/alerts", json=body)
                assert response.status_code == 202, response.text

        await asyncio.gather(*(send(i) for i in range(ALERTS)))
        for _ in range(12):
            # A new connection per scrape: each may land on either worker.
            async with httpx.AsyncClient(headers=PLATFORM_HEADERS, timeout=10) as http:
                text = (await http.get(f"{ingestion.url}/metrics")).text
            assert _total(text, "alerts_received", severity="high") == ALERTS
            assert _total(text, "http_requests", handler="/api/v1/alerts", method="POST") == ALERTS
        assert list((tmp_path / "metrics").glob("*.db")), "the workers wrote their samples to the folder"
