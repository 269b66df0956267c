"""Fuzz every service's API from its own OpenAPI document (schemathesis).

Each of the four apps runs in-process (ASGI) on this run's migrated test
database; the services it calls are pointed at a closed port, so their
fallbacks answer. Valid and invalid requests are generated per operation, and
every answer must be: no server error (a 503 is allowed only where documented,
and the database is up here), a status code the operation documents, a body
matching the documented schema, and the documented content type.

Run on its own with `pytest -m fuzz tests/fuzz`; the budget (examples per
operation and mode, derandomized so a run is repeatable) is FUZZ_EXAMPLES, default 15.
"""

import os
from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.python.asgi import shutdown_lifespans
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from alert_ingestion.config import Settings as IngestionSettings
from alert_ingestion.main import create_app as create_ingestion_app
from incident_management.config import Settings as IncidentSettings
from incident_management.main import create_app as create_incident_app
from notification_service.config import Settings as NotificationSettings
from notification_service.main import create_app as create_notification_app
from oncall_service.config import Settings as OncallSettings
from oncall_service.main import create_app as create_oncall_app
from platform_testing import free_port, reset_database

pytestmark = pytest.mark.fuzz

SERVICES = ["alert-ingestion", "incident-management", "oncall-service", "notification-service"]
# 15 per operation and mode: about 80 s for the four services on two cores (20: about 3 minutes).
EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "15"))


def no_undocumented_server_error(ctx: Any, response: Any, case: Any) -> None:
    """Like schemathesis' not_a_server_error, but a 503 the operation documents is
    an answer (e.g. notification-service while oncall-service is down)."""
    status = response.status_code
    documented = status == 503 and "503" in case.operation.definition.raw.get("responses", {})
    if status >= 500 and not documented:
        raise AssertionError(f"server error {status}: {response.content[:500]!r}")


CHECKS = [
    no_undocumented_server_error,
    status_code_conformance,
    response_schema_conformance,
    content_type_conformance,
    response_headers_conformance,
]
FUZZ_SETTINGS = settings(
    max_examples=EXAMPLES,
    derandomize=True,
    deadline=None,
    database=None,
    suppress_health_check=list(HealthCheck),
)


def _apps(database_url: str) -> dict[str, Any]:
    # Nothing listens there: every call to another service fails at once and its fallback answers.
    nowhere = f"http://127.0.0.1:{free_port()}"
    common: dict[str, Any] = {"environment": "test", "database_url": database_url, "readiness_interval_seconds": 600}
    return {
        "alert-ingestion": create_ingestion_app(
            IngestionSettings(
                **common,
                incident_service_url=nowhere,
                incident_actions_worker_enabled=False,
                incident_create_timeout_seconds=0.5,
                http_retries=0,
                integration_cache_seconds=0,
            )
        ),
        "incident-management": create_incident_app(
            IncidentSettings(
                **common,
                oncall_service_url=nowhere,
                notification_service_url=nowhere,
                incident_worker_enabled=False,
                http_retries=0,
            )
        ),
        "oncall-service": create_oncall_app(OncallSettings(**common)),
        "notification-service": create_notification_app(
            NotificationSettings(
                **common,
                oncall_service_url=nowhere,
                notification_worker_enabled=False,
                notification_webhook_secret="fuzz-webhook-secret",
                http_retries=0,
            )
        ),
    }


@pytest.fixture(scope="module")
def fuzz_schemas(database_url: str) -> Iterator[dict[str, Any]]:
    reset_database(database_url)
    apps = _apps(database_url)
    yield {name: schemathesis.openapi.from_asgi("/openapi.json", app) for name, app in apps.items()}
    # The lifespans run in schemathesis' own event loop thread; end them (pools, tasks) here.
    shutdown_lifespans()


def _fuzz(schema: Any, mode: GenerationMode) -> None:
    """Every operation gets its own budget; every failing operation is reported, not just the first."""
    failures = []
    for result in schema.get_all_operations():
        operation = result.ok()

        @FUZZ_SETTINGS
        @given(case=operation.as_strategy(generation_mode=mode))
        def run(case: Any) -> None:
            case.call_and_validate(checks=CHECKS)

        try:
            run()
        except Unsatisfiable:
            # Nothing in this operation can be made invalid (no parameters, no body).
            assert mode is GenerationMode.NEGATIVE, operation.label
        except (Exception, BaseExceptionGroup) as exc:  # schemathesis reports failures as a group
            failures.append(f"{operation.label}:\n{exc}")
    assert not failures, "\n\n".join(failures)


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE], ids=["valid", "invalid"])
@pytest.mark.parametrize("service", SERVICES)
def test_service_answers_as_documented(fuzz_schemas: dict[str, Any], service: str, mode: GenerationMode) -> None:
    _fuzz(fuzz_schemas[service], mode)
