"""The real `python -m oncall_service` process over real HTTP, as incident-management calls it."""

import httpx
import pytest

from platform_testing import PLATFORM_HEADERS, ServiceProcess, as_service

pytestmark = pytest.mark.e2e


def test_a_running_service_answers_who_is_on_call_for_a_service(clean_database, tmp_path):
    env = {"DATABASE_URL": as_service(clean_database, "oncall_service"), "ENVIRONMENT": "test"}
    with (
        ServiceProcess("oncall_service", env, log_dir=tmp_path) as service,
        httpx.Client(headers=PLATFORM_HEADERS, base_url=service.url) as http,
    ):
        ann = http.post("/api/v1/users", json={"name": "Ann", "email": "ann@example.com"}).json()["id"]
        schedule = http.post(
            "/api/v1/schedules",
            json={
                "name": "Primary",
                "timezone": "America/New_York",
                "layers": [{"rotation_type": "weekly", "start_date": "2026-01-05", "members": [ann]}],
            },
        ).json()
        policy = http.post(
            "/api/v1/escalation-policies",
            json={
                "name": "Default",
                "levels": [{"delay_minutes": 5, "targets": [{"type": "schedule", "id": schedule["id"]}]}],
            },
        ).json()
        created = http.post("/api/v1/services", json={"name": "api", "escalation_policy_id": policy["id"]})
        assert created.status_code == 201, created.text

        response = http.get(
            "/api/v1/oncall/current",
            params={"service": "api", "at": "2026-03-08T12:00:00+00:00"},
            headers={"X-Request-ID": "e2e-oncall"},
        )
        assert response.status_code == 200, service.output()
        assert response.headers["x-request-id"] == "e2e-oncall"
        assert response.json()["primary"]["name"] == "Ann"
        assert response.json()["escalation_chain"][0]["users"][0]["id"] == ann
        assert http.get("/api/v1/oncall/current", params={"service": "unknown"}).status_code == 404
        ready = http.get("/health/ready").json()
        assert ready["dependencies"]["database"]["status"] == "up"
