"""The race proof: hundreds of concurrent senders against two ingestion
processes on PostgreSQL still make exactly one incident per problem, with
exact counts, and each alert's outcome (created, correlated, deduplicated)
is the one the rule gives."""

import asyncio
import contextlib

import httpx
import pytest

from platform_testing import PLATFORM_HEADERS, ServiceProcess, as_service

pytestmark = pytest.mark.e2e

PER_SCENARIO = 120


def _word(n: int) -> str:
    """A word of letters only, different for every n."""
    letters = ""
    while True:
        n, digit = divmod(n, 26)
        letters += chr(ord("a") + digit)
        if n == 0:
            return letters


def burst_client() -> httpx.AsyncClient:
    """A client for a burst of hundreds of requests at once.

    The burst rides on reused connections. httpx keeps an idle connection for
    5 s, and uvicorn's own default closed it at 5 s too, so a request sent just
    as the server closed was reset (httpx.ReadError): the services now keep idle
    connections for HTTP_KEEPALIVE_SECONDS (75 s). The pool also keeps every
    connection it opened (its default keeps 20, closing and reopening the rest
    in the middle of the burst), so connections are opened once and reused."""
    return httpx.AsyncClient(
        headers=PLATFORM_HEADERS, timeout=60, limits=httpx.Limits(max_connections=400, max_keepalive_connections=400)
    )


async def sender_headers(http: httpx.AsyncClient, url: str, services: list[str]) -> dict[str, dict[str, str]]:
    """An integration key per service (senders need one; a key speaks for one service), as headers."""
    headers = {}
    for service in services:
        created = await http.post(
            f"{url}/api/v1/integrations", json={"name": service, "service": service, "type": "generic"}
        )
        headers[service] = {"Authorization": f"Bearer {created.json()['key']}"}
    return headers


async def send_all(requests: list, processes: list[ServiceProcess]) -> list[httpx.Response]:
    """The responses of all requests; a transport error fails the test with what
    each server process printed, so a dropped connection says where it came from."""
    results = await asyncio.gather(*requests, return_exceptions=True)
    failed = [r for r in results if isinstance(r, BaseException)]
    if failed:
        logs = "\n".join(
            f"--- {p.module} on {p.port}, exit code {p.process.poll() if p.process else None}:\n{p.output()[-3000:]}"
            for p in processes
        )
        pytest.fail(f"{len(failed)} of {len(results)} requests failed, first: {failed[0]!r}\n{logs}")
    return results


@pytest.fixture
def two_processes(clean_database, incident_process):
    env = {
        "ENVIRONMENT": "test",
        "DATABASE_URL": as_service(clean_database, "alert_ingestion"),
        "INCIDENT_SERVICE_URL": incident_process.url,
        "INCIDENT_ACTIONS_WORKER_ENABLED": "false",
        "READINESS_INTERVAL_SECONDS": "60",
        "LOG_LEVEL": "WARNING",
    }
    # Two processes, each batching its own alerts: they must exclude each other as well as themselves.
    processes = [ServiceProcess("alert_ingestion", env) for _ in range(2)]
    with contextlib.ExitStack() as stack:
        yield [stack.enter_context(process) for process in processes]


async def test_concurrent_senders_across_two_processes_make_one_incident_each(two_processes, incident_process, db):
    a, b = two_processes
    async with burst_client() as http:
        created = await http.post(
            f"{a.url}/api/v1/integrations", json={"name": "race", "service": "pd-race", "type": "pagerduty"}
        )
        key = created.json()["key"]
        senders = await sender_headers(http, a.url, ["corr-race", "mixed-race"])
        requests = []
        for i in range(PER_SCENARIO):
            target = (a, b)[i % 2].url
            # Same service and severity, every message a different problem (in words: numbers and
            # ids are normalised away, which would make them repeats): correlation must pick one incident.
            requests.append(
                http.post(
                    f"{target}/api/v1/alerts",
                    json={"service": "corr-race", "severity": "critical", "message": f"check {_word(i)} failing"},
                    headers=senders["corr-race"],
                )
            )
            # Same fingerprint (one dedup key) from many senders: dedup must pick one incident.
            requests.append(
                http.post(
                    f"{target}/v2/enqueue",
                    json={
                        "routing_key": key,
                        "event_action": "trigger",
                        "dedup_key": "same-problem",
                        "payload": {"summary": "DB primary down", "source": f"probe-{i}", "severity": "critical"},
                    },
                )
            )
            # Two severities, six dedup keys (three per severity): per severity one
            # incident opened, each other key's first alert correlated into it, every
            # repeat of a key deduplicated.
            requests.append(
                http.post(
                    f"{target}/api/v1/alerts",
                    json={
                        "service": "mixed-race",
                        "severity": ("critical", "high")[i % 2],
                        "message": f"mixed {i}",
                        "dedup_key": f"mixed-{i % 6}",
                    },
                    headers=senders["mixed-race"],
                )
            )
        responses = await send_all(requests, [*two_processes, incident_process])

    assert sorted({r.status_code for r in responses}) == [202], [r.text for r in responses if r.status_code != 202][:3]
    # Each incident is opened (by incident-management, or the fallback) just after the 202 that named it.
    incidents = await db.all_incidents_opened(within=30)
    for service in ("corr-race", "pd-race"):
        opened = [i for i in incidents if i.service == service]
        assert len(opened) == 1, f"{service}: {len(opened)} incidents"
        # Every alert of the scenario on it, counted from ingestion's alerts.
        assert opened[0].alert_count == PER_SCENARIO
        named = db.rows("SELECT DISTINCT incident_id FROM alerts WHERE service = :s", s=service)
        assert [row.incident_id for row in named] == [opened[0].id]
        actions = db.rows(
            "SELECT action, count(*) AS n, sum(trigger_count) AS triggers FROM alerts WHERE service = :s"
            " GROUP BY action",
            s=service,
        )
        counts = {row.action: (row.n, row.triggers) for row in actions}
        # Dedup and correlation told apart: the burst of one key is all repeats, counted on
        # its one row; the burst of different messages all correlations, a row each.
        expected = (
            {"created": (1, PER_SCENARIO)}
            if service == "pd-race"
            else {"created": (1, 1), "correlated": (PER_SCENARIO - 1, PER_SCENARIO - 1)}
        )
        assert counts == expected, (service, counts)

    mixed = [i for i in incidents if i.service == "mixed-race"]
    assert sorted((i.severity, i.alert_count) for i in mixed) == [("critical", 60), ("high", 60)]
    for severity in ("critical", "high"):
        rows = db.rows(
            "SELECT action, count(*) AS n FROM alerts WHERE service = 'mixed-race' AND severity = :s GROUP BY action",
            s=severity,
        )
        assert {row.action: row.n for row in rows} == {"created": 1, "correlated": 2}, severity
    # Each key: its first alert opened or joined the incident, all later ones were repeats counted on its row.
    per_key = db.rows("SELECT dedup_key, count(*) AS n FROM alerts WHERE service = 'mixed-race' GROUP BY dedup_key")
    assert len(per_key) == 6 and all(row.n == 1 for row in per_key)

    assert len(incidents) == 4
    # One create owed per incident, and settled.
    done = db.scalar("SELECT array_agg(action || ':' || status) FROM alert_incident_actions")
    assert done == ["create:done"] * 4
    # The three processes really served.
    assert all(p.process.poll() is None for p in [*two_processes, incident_process])


async def test_overlapping_batches_in_two_processes_never_deadlock(two_processes, db):
    """Batches of mixed services, severities and keys overlap in lock sets in
    every order; all must commit (a deadlock would be a 5xx), counts exact."""
    a, b = two_processes
    severities = ("critical", "high", "low")
    async with burst_client() as http:
        senders = await sender_headers(http, a.url, [f"svc-{n}" for n in range(5)])
        requests = [
            http.post(
                f"{(a, b)[i % 2].url}/api/v1/alerts",
                json={
                    "service": f"svc-{(i * 7) % 5}",
                    "severity": severities[(i * 11) % 3],
                    "message": f"problem {(i * 13) % 17}",
                    "dedup_key": f"key-{(i * 13) % 17}",
                },
                headers=senders[f"svc-{(i * 7) % 5}"],
            )
            for i in range(300)
        ]
        responses = await send_all(requests, two_processes)

    assert {r.status_code for r in responses} == {202}, [r.text for r in responses if r.status_code != 202][:3]
    assert db.scalar("SELECT sum(trigger_count) FROM alerts") == 300
    incidents = await db.all_incidents_opened(within=30)
    assert sum(i.alert_count for i in incidents) == 300
    # At most one open incident per (service, severity) was created by correlation...
    pairs = [(i.service, i.severity) for i in incidents]
    assert len(pairs) == len(set(pairs)), pairs
    assert set(pairs) == {tuple(row) for row in db.rows("SELECT DISTINCT service, severity FROM alerts")}
    assert db.scalar("SELECT count(*) FROM alerts WHERE action = 'created'") == len(incidents)
    # ...and every alert of one dedup key landed on one incident.
    keys = db.rows("SELECT dedup_key, count(DISTINCT incident_id) AS n FROM alerts GROUP BY dedup_scope, dedup_key")
    assert all(row.n == 1 for row in keys)
