"""Local runs start with one integration whose key is printed (or fixed by SEED_INTEGRATION_KEY)."""

import json

import httpx
import pytest

from platform_testing import ServiceProcess, as_service


async def test_local_run_seeds_the_given_key_once(make_client, db):
    async with make_client(environment="local", seed_integration_key="local-dev-key-123") as client:
        response = await client.post(
            "/v2/enqueue",
            json={
                "routing_key": "local-dev-key-123",
                "event_action": "trigger",
                "payload": {"summary": "hello", "source": "me", "severity": "info"},
            },
        )
        assert response.status_code == 202
    async with make_client(environment="local", seed_integration_key="another-key"):
        pass
    # Seeded only when none exists.
    assert db.scalar("SELECT count(*) FROM integrations") == 1
    assert db.scalar("SELECT service FROM integrations") == "demo"


async def test_test_and_prod_environments_seed_nothing(client, db):
    assert db.scalar("SELECT count(*) FROM integrations") == 0


@pytest.mark.e2e
def test_generated_seed_key_is_logged_at_start_up(clean_database, incident_service):
    env = {
        "ENVIRONMENT": "local",
        "DATABASE_URL": as_service(clean_database, "alert_ingestion"),
        "SEED_INTEGRATION_SERVICE": "shop",
        "INCIDENT_SERVICE_URL": incident_service.url,
    }
    with ServiceProcess("alert_ingestion", env) as process:
        lines = [json.loads(line) for line in process.output().splitlines() if line.startswith("{")]
        seeded = [line for line in lines if "integration_key" in line]
        assert len(seeded) == 1
        key = seeded[0]["integration_key"]
        response = httpx.post(
            f"{process.url}/api/v1/alerts",
            json={"severity": "low", "message": "seeded"},
            headers={"Authorization": f"Bearer {key}"},
        )
        assert response.status_code == 202, response.text
