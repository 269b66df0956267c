"""Fuzz every service's API from its own OpenAPI document (schemathesis), as
each role: a viewer, a responder and an admin.

Each of the four apps runs in-process (ASGI) on this run's migrated test
database; the services it calls are pointed at a closed port, so their
fallbacks answer. Per operation, schemathesis' three phases run: the schema's
examples, the coverage phase (boundary and off-by-one values of every
parameter and field, derived from the document and the same whatever the
seed), and fuzzing (FUZZ_EXAMPLES generated requests, derandomized so a run is
repeatable); valid and invalid requests each. Every request is sent as the
caller its route admits: the role's API token, except the internal credential
for the platform's own routes, an integration key for the senders' routes and
a fresh token of the role for the logout, which ends it. So a viewer is
refused what only a responder or admin may do (which must be a documented
403), and an admin reaches every handler (checked: valid requests of every
operation get past the access check). Every answer must be: no server error (a
503 is allowed only where documented, and the database is up here), a status
code the operation documents, a body matching the documented schema, and the
documented content type.

Run on its own with `pytest -m fuzz tests/fuzz`; FUZZ_EXAMPLES (default 15) is
the fuzzing phase's budget per operation, role and mode.
"""

import os
from collections import defaultdict
from collections.abc import Callable, Iterator
from typing import Any

import psycopg
import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.core.control import SkipTest
from schemathesis.generation.hypothesis.builder import HypothesisTestConfig, HypothesisTestMode, create_test
from schemathesis.python.asgi import shutdown_lifespans
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from alert_ingestion.usecases.integrations import hash_key, new_key
from platform_common.auth import INTEGRATION_KEY, PLATFORM_ONLY
from platform_testing import PLATFORM_HEADERS, reset_database, route_table, user_with_token

pytestmark = pytest.mark.fuzz

SERVICES = ["alert-ingestion", "incident-management", "oncall-service", "notification-service"]
ROLES = ["viewer", "responder", "admin"]
# The fuzzing phase's examples per operation, role and mode.
EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "15"))
# schemathesis' phases, as `--phases examples,coverage,fuzzing` runs them.
PHASES = [HypothesisTestMode.EXAMPLES, HypothesisTestMode.COVERAGE, HypothesisTestMode.FUZZING]


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
def credentials(
    database_url: str, service_apps: dict[str, Any], fuzz_schemas: Any
) -> Callable[[str, str, str, str], dict[str, str]]:
    """The headers to send an operation of a service with as a role (after the reset above)."""
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
    tokens = {role: user_with_token(database_url, f"Fuzz {role}", role=role)[1] for role in ROLES}
    key = new_key()
    with psycopg.connect(database_url) as conn:
        conn.execute(
            "INSERT INTO integrations (id, name, service, type, key_hash, key_prefix, created_at)"
            " VALUES (gen_random_uuid(), 'fuzz', 'fuzz', 'generic', %s, %s, now())",
            (hash_key(key), key[:8]),
        )

    def headers(role: str, service: str, method: str, path: str) -> dict[str, str]:
        if (service, method, path) in platform_only:
            return PLATFORM_HEADERS
        if (service, method, path) in senders:
            return {"Authorization": f"Bearer {key}"}
        if path == "/api/v1/auth/logout":
            return user_with_token(database_url, f"Fuzz {role}", role=role)[1]
        return tokens[role]

    return headers


def _fuzz(
    schema: Any, mode: GenerationMode, headers: Callable[[str, str], dict[str, str]], *, reaches_all: bool
) -> None:
    """Every operation gets its own budget; every failing operation is reported, not just the first.
    `reaches_all`: the role may call every operation, so valid requests refused at the door are a failure."""
    schema.config.generation.update(modes=[mode])
    failures, locked_out = [], []
    statuses: dict[str, set[int]] = defaultdict(set)  # by operation: what its requests were answered
    for result in schema.get_all_operations():
        operation = result.ok()

        def run(case: Any) -> None:
            sent = headers(case.operation.method.upper(), case.operation.path)
            statuses[case.operation.label].add(case.call_and_validate(checks=CHECKS, headers=sent).status_code)

        test = create_test(
            operation=operation,
            test_func=run,
            config=HypothesisTestConfig(project=schema.config, modes=PHASES, settings=FUZZ_SETTINGS),
        )
        try:
            test()
        except (Unsatisfiable, SkipTest):
            # Nothing in this operation can be made invalid (no parameters, no body).
            assert mode is GenerationMode.NEGATIVE, operation.label
        except (Exception, BaseExceptionGroup) as exc:  # schemathesis reports failures as a group
            failures.append(f"{operation.label}:\n{exc}")
        refused_only = statuses[operation.label] <= {401, 403}
        if reaches_all and mode is GenerationMode.POSITIVE and refused_only and operation.label not in SEALED:
            locked_out.append(operation.label)
    assert not failures, "\n\n".join(failures)
    # Valid requests that were all refused at the door tested nothing behind it.
    assert not locked_out, f"never got past the access check: {locked_out}"


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE], ids=["valid", "invalid"])
@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("service", SERVICES)
def test_service_answers_as_documented(
    fuzz_schemas: dict[str, Any],
    credentials: Callable[[str, str, str, str], dict[str, str]],
    service: str,
    role: str,
    mode: GenerationMode,
) -> None:
    _fuzz(
        fuzz_schemas[service],
        mode,
        lambda method, path: credentials(role, service, method, path),
        reaches_all=role == "admin",
    )
