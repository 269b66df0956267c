"""A broad search: counted up to 1,000 (`total_capped`) and paged by walking incidents newest
first, finding exactly what the full search finds (db/queries.py's _search; bench/search.py
measures the speed)."""

import json
import uuid
from datetime import timedelta

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession, create_async_engine

from incident_management.db import queries

from ..conftest import START

FILL = """
INSERT INTO incidents (id, title, description, service, team, severity, status, origin, needs_assignment,
                       escalation_level, escalation_cycle, dependency_failures, version, created_at, updated_at)
SELECT gen_random_uuid(), :title || ' #' || n, '', 'svc-' || (n % 2), NULL, 'high',
       'open', 'api', false, 0, 0, 0, 1,
       :start - n * interval '1 minute', :start - n * interval '1 minute'
  FROM generate_series(1, :n) AS n
"""


def _sync(database_url: str) -> sa.Engine:
    return sa.create_engine(database_url.replace("postgresql://", "postgresql+psycopg://", 1))


def _fill(database_url: str, title: str, n: int) -> None:
    engine = _sync(database_url)
    with engine.begin() as conn:
        conn.execute(sa.text(FILL), {"title": title, "n": n, "start": START})
    engine.dispose()


def _newest_first(database_url: str, title: str, service: str | None = None) -> list[str]:
    """The reference: every match, sorted as the list sorts, straight from the table."""
    engine = _sync(database_url)
    with engine.begin() as conn:
        ids = conn.scalars(
            sa.text(
                "SELECT id FROM incidents WHERE title LIKE :title || '%'"
                " AND (CAST(:service AS text) IS NULL OR service = :service) ORDER BY created_at DESC, id DESC"
            ),
            {"title": title, "service": service},
        )
        found = [str(i) for i in ids]
    engine.dispose()
    return found


async def _page(harness, **params) -> dict:
    response = await harness.client.get("/api/v1/incidents", params=params)
    assert response.status_code == 200, response.text
    return response.json()


async def test_a_broad_search_says_more_than_1000_and_pages_like_the_full_search(harness):
    _fill(harness.database_url, "Node not ready", 1_200)
    _fill(harness.database_url, "Disk full", 30)
    ready = _newest_first(harness.database_url, "Node not ready")

    first = await _page(harness, q="not READY")
    assert (first["total"], first["total_capped"]) == (1_000, True)
    assert [i["id"] for i in first["items"]] == ready[:50]
    far = await _page(harness, q="not ready", offset=1_150, limit=100)
    assert [i["id"] for i in far["items"]] == ready[1_150:], "pages go on past the count"
    assert far["total_capped"] is True

    one_service = await _page(harness, q="not ready", service="svc-1", offset=100)
    assert (one_service["total"], one_service["total_capped"]) == (600, False), "a filter: counted to the end"
    in_svc_1 = _newest_first(harness.database_url, "Node not ready", "svc-1")
    assert [i["id"] for i in one_service["items"]] == in_svc_1[100:150]

    narrow = await _page(harness, q="disk full")
    assert (narrow["total"], narrow["total_capped"]) == (30, False)
    by_severity = await _page(harness, q="not ready", sort="severity")
    assert (by_severity["total"], by_severity["total_capped"]) == (1_200, False), "no walk in that order"
    everything = await _page(harness)
    assert (everything["total"], everything["total_capped"]) == (1_230, False), "no q: always exact"


def _alert(conn: sa.Connection, incident_id: str, cluster: str) -> None:
    conn.execute(
        sa.text(
            "INSERT INTO alerts (id, incident_id, dedup_scope, format, source, service, severity, message,"
            " labels, fingerprint, status, action, received_at)"
            " VALUES (gen_random_uuid(), :incident, 'service:x', 'generic', 'prometheus', 'x', 'high', 'm',"
            " CAST(:labels AS json), :fp, 'triggered', 'correlated', :now)"
        ),
        {"incident": incident_id, "labels": json.dumps({"cluster": cluster}), "fp": uuid.uuid4().hex, "now": START},
    )


async def test_a_small_cap_finds_what_the_full_search_finds(harness):
    """With a cap of 2, every way of answering runs on a few incidents: one incident with three
    matching alerts stops the alerts' side early without being more than 2 incidents."""
    made = []
    for n in range(6):
        harness.clock.advance(timedelta(minutes=1))
        made.append(await harness.create(title=f"Queue depth growing {n}", service=f"svc-{n % 2}"))
    engine = _sync(harness.database_url)
    with engine.begin() as conn:
        for _ in range(3):
            _alert(conn, made[0]["id"], "kube-east")
        _alert(conn, made[4]["id"], "kube-east")
    engine.dispose()
    assert (await harness.patch(made[2]["id"], status="resolved")).status_code == 200

    database = create_async_engine(harness.database_url.replace("postgresql://", "postgresql+psycopg://", 1))
    cases = [
        {"q": "kube-east"},
        {"q": "queue depth"},
        {"q": "queue depth", "statuses": ["resolved"]},
        {"q": "queue depth", "service": "svc-0", "offset": 1},
        {"q": "queue depth", "sort": "created_at", "limit": 2, "offset": 3},
        {"q": "queue depth", "sort": "-updated_at"},
        {"q": "nothing like it"},
    ]
    async with database.connect() as conn:
        session = AsyncSession(bind=conn)
        for case in cases:
            full = await queries.list_incidents(session, **case)
            capped = await queries.list_incidents(session, **case, cap=2)
            assert [i.id for i in capped.items] == [i.id for i in full.items], case
            walked = full.total > 2 and case.get("sort", "-created_at").endswith("created_at")
            assert (capped.total, capped.capped) == ((2, True) if walked else (full.total, False)), case
        assert (await queries.list_incidents(session, q="kube-east", cap=2)).total == 2
    await database.dispose()
