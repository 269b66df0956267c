"""End-to-end fixtures: the real incident-management as a process of its own
(oncall-service and notification-service left unreachable, its engine loop off:
the incidents stay unassigned, which is not what these tests look at)."""

from collections.abc import Iterator

import pytest

from platform_testing import ServiceProcess, as_service, free_port


def incident_management_env(database_url: str) -> dict[str, str]:
    nowhere = f"http://127.0.0.1:{free_port()}"
    return {
        "ENVIRONMENT": "test",
        "DATABASE_URL": as_service(database_url, "incident_management"),
        "ONCALL_SERVICE_URL": nowhere,
        "NOTIFICATION_SERVICE_URL": nowhere,
        "INCIDENT_WORKER_ENABLED": "false",
        "READINESS_INTERVAL_SECONDS": "60",
        "LOG_LEVEL": "WARNING",
    }


@pytest.fixture
def incident_process(clean_database: str) -> Iterator[ServiceProcess]:
    with ServiceProcess("incident_management", incident_management_env(clean_database)) as process:
        yield process
