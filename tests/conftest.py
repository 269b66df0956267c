"""Fixtures of the cross-service suites (tests/): the four apps side by side."""

from typing import Any

import pytest
from fastapi import FastAPI

from alert_ingestion.config import Settings as IngestionSettings
from alert_ingestion.main import create_app as create_ingestion_app
from incident_management.config import Settings as IncidentSettings
from incident_management.main import create_app as create_incident_app
from notification_service.config import Settings as NotificationSettings
from notification_service.main import create_app as create_notification_app
from oncall_service.config import Settings as OncallSettings
from oncall_service.main import create_app as create_oncall_app
from platform_testing import as_service, free_port


@pytest.fixture(scope="module")
def service_apps(database_url: str) -> dict[str, FastAPI]:
    """The four apps, built (not started) on this run's database, by service
    name. The services they call are pointed at a closed port, so every such
    call fails at once and its fallback answers; no background workers run."""
    nowhere = f"http://127.0.0.1:{free_port()}"
    common: dict[str, Any] = {"environment": "test", "readiness_interval_seconds": 600}
    return {
        "alert-ingestion": create_ingestion_app(
            IngestionSettings(
                **common,
                database_url=as_service(database_url, "alert_ingestion"),
                incident_service_url=nowhere,
                incident_actions_worker_enabled=False,
                incident_create_timeout_seconds=0.5,
                integration_cache_seconds=0,
            )
        ),
        "incident-management": create_incident_app(
            IncidentSettings(
                **common,
                database_url=as_service(database_url, "incident_management"),
                oncall_service_url=nowhere,
                notification_service_url=nowhere,
                incident_worker_enabled=False,
                # The change stream ends at once: an in-process client reads a whole answer.
                incident_changes_stream_seconds=0.1,
            )
        ),
        "oncall-service": create_oncall_app(
            OncallSettings(
                **common, database_url=as_service(database_url, "oncall_service"), oncall_notice_enabled=False
            )
        ),
        "notification-service": create_notification_app(
            NotificationSettings(
                **common,
                database_url=as_service(database_url, "notification_service"),
                oncall_service_url=nowhere,
                notification_worker_enabled=False,
                notification_webhook_secret="test-webhook-secret",
            )
        ),
    }
