"""Fuzz every service's API from its own OpenAPI document (schemathesis).

Each of the four apps runs in-process (ASGI) on this run's migrated test
database; the services it calls are pointed at a closed port, so their
fallbacks answer. Valid and invalid requests are generated per operation, and
every request is sent as the caller its route admits (an admin's API token;
the internal credential for the platform's own routes; an integration key for
the senders' routes; a fresh token for the logout, which ends it), so the
fuzzer reaches the handlers (checked: valid requests of every operation get
past the access check), and every answer must be: no server error (a 503 is allowed only where documented,
and the database is up here), a status code the operation documents, a body
matching the documented schema, and the documented content type.

Run on its own with `pytest -m fuzz tests/fuzz`; the budget (examples per
operation and mode, derandomized so a run is repeatable) is FUZZ_EXAMPLES, default 15.
"""

import os
from collections import defaultdict
from collections.abc import Callable, Iterator
from typing import Any

import psycopg
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

from alert_ingestion.services.integrations import hash_key, new_key
from platform_common.auth import INTEGRATION_KEY, PLATFORM_ONLY
from platform_testing import PLATFORM_HEADERS, reset_database, route_table, user_with_token

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
# Operations no generated request can open: a signed link needs the signer's key,
# a password change the current password (tests/auth covers both).
SEALED = {
    "GET /api/v1/incidents/links/{token}",
    "POST /api/v1/incidents/links/{token}",
    "PUT /api/v1/auth/password",
}
FUZZ_SETTINGS = settings(
    max_examples=EXAMPLES,
    derandomize=True,
    deadline=None,
    database=None,
    suppress_health_check=list(HealthCheck),
)


@pytest.fixture(scope="module")
def fuzz_schemas(database_url: str, service_apps: dict[str, Any]) -> Iterator[dict[str, Any]]:
    reset_database(database_url)
    yield {name: schemathesis.openapi.from_asgi("/openapi.json", app) for name, app in service_apps.items()}
    # The lifespans run in schemathesis' own event loop thread; end them (pools, tasks) here.
    shutdown_lifespans()


@pytest.fixture(scope="module")
def credentials(database_url: str, service_apps: dict[str, Any], fuzz_schemas: Any) -> Callable[[str, str, str], dict]:
    """The headers to send an operation of a service with (after the reset above)."""
    platform_only = {
        (name, row.method, row.path)
        for name, app in service_apps.items()
        for row in route_table(app)
        if row.rules == (PLATFORM_ONLY,)
    }
    senders = {
        (name, row.method, row.path)
        for name, app in service_apps.items()
        for row in route_table(app)
        if row.rules == (INTEGRATION_KEY,)
    }
    _, admin = user_with_token(database_url, "Fuzz Admin", role="admin")
    key = new_key()
    with psycopg.connect(database_url) as conn:
        conn.execute(
            "INSERT INTO integrations (id, name, service, type, key_hash, key_prefix, created_at)"
            " VALUES (gen_random_uuid(), 'fuzz', 'fuzz', 'generic', %s, %s, now())",
            (hash_key(key), key[:8]),
        )

    def headers(service: str, method: str, path: str) -> dict[str, str]:
        if (service, method, path) in platform_only:
            return PLATFORM_HEADERS
        if (service, method, path) in senders:
            return {"Authorization": f"Bearer {key}"}
        if path == "/api/v1/auth/logout":
            return user_with_token(database_url, "Fuzz Admin", role="admin")[1]
        return admin

    return headers


def _fuzz(schema: Any, mode: GenerationMode, headers: Callable[[str, str], dict[str, str]]) -> None:
    """Every operation gets its own budget; every failing operation is reported, not just the first."""
    failures, locked_out = [], []
    statuses: dict[str, set[int]] = defaultdict(set)  # by operation: what its requests were answered
    for result in schema.get_all_operations():
        operation = result.ok()

        @FUZZ_SETTINGS
        @given(case=operation.as_strategy(generation_mode=mode))
        def run(case: Any) -> None:
            sent = headers(case.operation.method.upper(), case.operation.path)
            statuses[case.operation.label].add(case.call_and_validate(checks=CHECKS, headers=sent).status_code)

        try:
            run()
        except Unsatisfiable:
            # Nothing in this operation can be made invalid (no parameters, no body).
            assert mode is GenerationMode.NEGATIVE, operation.label
        except (Exception, BaseExceptionGroup) as exc:  # schemathesis reports failures as a group
            failures.append(f"{operation.label}:\n{exc}")
        refused_only = statuses[operation.label] <= {401, 403}
        if mode is GenerationMode.POSITIVE and refused_only and operation.label not in SEALED:
            locked_out.append(operation.label)
    assert not failures, "\n\n".join(failures)
    # Valid requests that were all refused at the door tested nothing behind it.
    assert not locked_out, f"never got past the access check: {locked_out}"


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE], ids=["valid", "invalid"])
@pytest.mark.parametrize("service", SERVICES)
def test_service_answers_as_documented(
    fuzz_schemas: dict[str, Any], credentials: Callable[[str, str, str], dict], service: str, mode: GenerationMode
) -> None:
    _fuzz(fuzz_schemas[service], mode, lambda method, path: credentials(service, method, path))
