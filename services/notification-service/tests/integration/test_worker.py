"""The delivery worker against the real database: leases after a crash, several workers on one queue."""

import asyncio
import uuid
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta

import httpx
import pytest
import sqlalchemy as sa

from notification_service.channels.base import AttemptResult
from notification_service.channels.webhook import WebhookChannel
from notification_service.db import queries
from notification_service.domain.retry import Outcome
from notification_service.main import create_app
from notification_service.rendering import Renderer
from notification_service.usecases.delivery import claim_due
from notification_service.workers.delivery import DeliveryWorker
from platform_common.clock import ManualClock
from platform_common.db import Database
from platform_testing import running_app


@asynccontextmanager
async def api_without_worker(settings):
    """The service's API only: the tests drive the workers themselves."""
    async with running_app(create_app(settings.model_copy(update={"notification_worker_enabled": False}))) as client:
        yield client


async def accept_pages(api, receiver, an_incident, count, *, path: str | None = None):
    """Store `count` webhook pages through the API, each to an address of its own, or all to `path`."""
    ids = []
    for i in range(count):
        response = await api.post(
            "/api/v1/notify",
            json={
                "event": "triggered",
                "incident": an_incident(),
                "targets": [{"channel": "webhook", "target": f"{receiver.url}/{path or i}"}],
            },
        )
        ids.append(response.json()["notifications"][0]["id"])
    return ids


async def history(api, notification_id):
    return (await api.get(f"/api/v1/notifications/{notification_id}")).json()


class Workers:
    """Workers built as the service builds them, each with its own engine, on one manual clock."""

    def __init__(self, settings):
        self.settings = settings
        self.clock = ManualClock(datetime.now(UTC) + timedelta(seconds=1))
        self.resources = []

    def make(self) -> DeliveryWorker:
        db = Database(self.settings)
        http = httpx.AsyncClient(timeout=2.0)
        self.resources.append((db, http))
        channel = WebhookChannel(http, Renderer(), b"secret")
        return DeliveryWorker(
            db=db, channels={"webhook": channel}, settings=self.settings, clock=self.clock, callbacks=http
        )

    async def close(self):
        for db, http in self.resources:
            await http.aclose()
            await db.dispose()


async def test_page_claimed_by_a_worker_that_died_is_sent_once_its_lease_expires(settings_for, receiver, an_incident):
    settings = settings_for(notification_lease_seconds=60)
    async with api_without_worker(settings) as api:
        [notification_id] = await accept_pages(api, receiver, an_incident, 1)
        await run_dead_worker_then_survivor(settings, receiver)
        row = await history(api, notification_id)

    assert len(receiver.received) == 1
    assert row["status"] == "delivered"
    assert row["attempts"] == 2
    assert [a["result"] for a in row["attempt_history"]] == ["abandoned", "success"]
    assert "lease expired" in row["attempt_history"][0]["error"]


async def run_dead_worker_then_survivor(settings, receiver):
    workers = Workers(settings)
    try:
        # A worker claims the page and dies before sending it (nothing else happens).
        dead = workers.make()
        async with dead.db.sessionmaker() as session, session.begin():
            batch = await claim_due(session, now=workers.clock.now(), limit=10, lease_seconds=60)
        assert len(batch.claims) == 1

        survivor = workers.make()
        assert await survivor.run_once() == 0  # still leased: nobody sends it twice meanwhile
        assert receiver.received == []

        workers.clock.advance(timedelta(seconds=61))
        assert await survivor.run_once() == 1
    finally:
        await workers.close()


async def test_page_that_keeps_killing_its_worker_runs_out_of_attempts(settings_for, receiver, an_incident):
    settings = settings_for(notification_lease_seconds=60, notification_max_attempts=2)
    async with api_without_worker(settings) as api:
        [notification_id] = await accept_pages(api, receiver, an_incident, 1)
        workers = Workers(settings)
        try:
            worker = workers.make()
            for _ in range(2):
                async with worker.db.sessionmaker() as session, session.begin():
                    batch = await claim_due(session, now=workers.clock.now(), limit=10, lease_seconds=60)
                assert len(batch.claims) == 1
                workers.clock.advance(timedelta(seconds=61))
            await worker.run_once()
        finally:
            await workers.close()
        row = await history(api, notification_id)

    assert row["status"] == "failed"
    assert [a["result"] for a in row["attempt_history"]] == ["abandoned", "abandoned"]
    assert receiver.received == []


async def test_workers_racing_on_one_queue_send_every_page_exactly_once(settings_for, receiver, an_incident):
    settings = settings_for(notification_batch_size=4)
    async with api_without_worker(settings) as api:
        ids = await accept_pages(api, receiver, an_incident, 24)
        workers = Workers(settings)
        try:
            racers = [workers.make() for _ in range(3)]

            async def drain(worker: DeliveryWorker) -> int:
                total = 0
                while handled := await worker.run_once():
                    total += handled
                return total

            claimed = await asyncio.gather(*(drain(worker) for worker in racers))
        finally:
            await workers.close()
        rows = [await history(api, notification_id) for notification_id in ids]

    assert sum(claimed) == 24
    paths = sorted(r.path for r in receiver.received)
    assert paths == sorted(f"/{i}" for i in range(24))  # each once, none twice
    assert all(row["status"] == "delivered" and row["attempts"] == 1 for row in rows)


async def test_a_row_locked_by_another_worker_is_skipped_not_waited_for(settings_for, receiver, an_incident):
    settings = settings_for()
    async with api_without_worker(settings) as api:
        await accept_pages(api, receiver, an_incident, 3)
        workers = Workers(settings)
        try:
            other = workers.make()
            worker = workers.make()
            async with other.db.sessionmaker() as session:
                # Another replica is in the middle of claiming one row (and then gives it up).
                now = workers.clock.now()
                assert len(await queries.claim_due(session, now=now, lease_until=now, limit=1)) == 1
                handled = await asyncio.wait_for(worker.run_once(), 5)
                assert handled == 2  # the two free rows, at once, without waiting for the lock
                await session.rollback()
            assert await worker.run_once() == 1
        finally:
            await workers.close()
    assert len(receiver.received) == 3
    assert len({r.path for r in receiver.received}) == 3


async def test_a_final_result_is_reported_to_the_caller_and_kept_while_the_caller_is_down(
    settings_for, receiver, an_incident
):
    settings = settings_for()
    async with api_without_worker(settings) as api:
        response = await api.post(
            "/api/v1/notify",
            json={
                "event": "triggered",
                "incident": an_incident(),
                "targets": [{"channel": "webhook", "target": f"{receiver.url}/page"}],
                "callback_url": f"{receiver.url}/callback",
            },
        )
        [notification] = response.json()["notifications"]
        # The page goes through; the caller (incident-management) is down when its report is due.
        receiver.script = [200, 503]
        workers = Workers(settings)
        try:
            worker = workers.make()
            await worker.run_once()
            assert [r.path for r in receiver.received] == ["/page", "/callback"]
            # The report is stored with the result: a later cycle, once the backoff passed, sends it again.
            assert await worker.run_once() == 0  # not due yet
            workers.clock.advance(timedelta(seconds=settings.notification_retry_base_seconds + 1))
            assert await worker.run_once() == 1
            workers.clock.advance(timedelta(hours=1))
            assert await worker.run_once() == 0  # taken: nothing more is owed
        finally:
            await workers.close()
    reports = [r.json() for r in receiver.received if r.path == "/callback"]
    assert len(reports) == 2
    assert reports[-1]["notification_id"] == notification["id"]
    assert reports[-1]["status"] == "delivered"
    assert reports[-1]["channel"] == "webhook"
    assert reports[-1]["incident_id"] == an_incident()["id"]


BATCH = "/api/v1/incidents/deliveries/batch"


async def page_incidents(api, receiver, an_incident, count):
    """`count` pages, each of an incident of its own, reported to incident-management's
    callback on the receiver (`/api/v1/incidents/{id}/deliveries`); the incidents' ids."""
    incident_ids = [str(uuid.uuid4()) for _ in range(count)]
    for i, incident_id in enumerate(incident_ids):
        response = await api.post(
            "/api/v1/notify",
            json={
                "event": "triggered",
                "incident": an_incident(id=incident_id),
                "targets": [{"channel": "webhook", "target": f"{receiver.url}/page/{i}"}],
                "callback_url": f"{receiver.url}/api/v1/incidents/{incident_id}/deliveries",
            },
        )
        assert response.status_code == 202
    return incident_ids


async def test_incident_managements_reports_go_in_one_request_and_each_is_retried_on_its_own(
    settings_for, receiver, an_incident
):
    """Three final results owed to incident-management: one batch request; the one it
    answers 503 for (alone) is sent again after the backoff, the others are settled."""
    settings = settings_for()

    def results(received):
        if received.path != BATCH:
            return {}
        items = received.json()["items"]
        codes = [503 if i == 0 and len(items) == 3 else 200 for i in range(len(items))]
        return {"results": [{"status_code": code, "recorded": code == 200} for code in codes]}

    receiver.respond = results
    async with api_without_worker(settings) as api:
        incident_ids = await page_incidents(api, receiver, an_incident, 3)
        workers = Workers(settings)
        try:
            worker = workers.make()
            writes: list[str] = []

            def count(_conn, _cursor, statement, *_args) -> None:
                if statement.startswith("UPDATE notifications") and "callback_attempts=" in statement:
                    writes.append(statement)

            sa.event.listen(worker.db.engine.sync_engine, "before_cursor_execute", count)
            await worker.run_once()
            assert len(writes) == 1, "the three reports' answers written in one statement"
            workers.clock.advance(timedelta(seconds=settings.notification_retry_base_seconds + 1))
            assert await worker.run_once() == 1  # the one answered 503
            workers.clock.advance(timedelta(hours=1))
            assert await worker.run_once() == 0  # nothing more is owed
        finally:
            await workers.close()
    reports = [r for r in receiver.received if not r.path.startswith("/page/")]
    assert [r.path for r in reports] == [BATCH, BATCH]
    first, retried = (r.json()["items"] for r in reports)
    assert sorted(item["incident_id"] for item in first) == sorted(incident_ids)
    assert {item["status"] for item in first} == {"delivered"}
    assert retried == [first[0]]


async def test_reports_go_one_by_one_to_an_incident_management_without_the_batch_route(
    settings_for, receiver, an_incident
):
    """A rolling deploy: the incident-management that answers has no batch route (404):
    each report goes to its own callback URL instead, and is settled by that answer."""
    settings = settings_for()
    async with api_without_worker(settings) as api:
        incident_ids = await page_incidents(api, receiver, an_incident, 2)
        receiver.script = [200, 200, 404]  # the two pages, then the batch
        workers = Workers(settings)
        try:
            worker = workers.make()
            await worker.run_once()
            workers.clock.advance(timedelta(hours=1))
            assert await worker.run_once() == 0  # taken one by one: nothing more is owed
        finally:
            await workers.close()
    reports = [r for r in receiver.received if not r.path.startswith("/page/")]
    assert reports[0].path == BATCH
    assert sorted(r.path for r in reports[1:]) == sorted(f"/api/v1/incidents/{i}/deliveries" for i in incident_ids)
    assert {r.json()["status"] for r in reports[1:]} == {"delivered"}


async def test_pages_after_one_to_be_retried_wait_for_it_and_arrive_in_order(settings_for, receiver, an_incident):
    """A receiver answers 500 to the first of three pages: the other two are given
    back unsent (no attempt counted), due with its retry, and the three arrive
    oldest first. Sent on, they overtook it (bench/faults.py webhook-500 counted
    pages out of order), and a receiver that hangs cost a timeout per page."""
    settings = settings_for()
    receiver.script = [500]
    async with api_without_worker(settings) as api:
        ids = await accept_pages(api, receiver, an_incident, 3, path="same")
        workers = Workers(settings)
        try:
            worker = workers.make()
            assert await worker.run_once() == 3
            assert [r.headers["X-Notification-Id"] for r in receiver.received] == ids[:1]
            rows = [await history(api, notification_id) for notification_id in ids]
            assert [(row["status"], row["attempts"]) for row in rows] == [
                ("pending", 1),
                ("pending", 0),
                ("pending", 0),
            ]
            workers.clock.advance(timedelta(seconds=60))
            while await worker.run_once():
                pass
        finally:
            await workers.close()
        rows = [await history(api, notification_id) for notification_id in ids]

    assert [r.headers["X-Notification-Id"] for r in receiver.received] == [ids[0], *ids]
    assert [(row["status"], row["attempts"]) for row in rows] == [("delivered", 2), ("delivered", 1), ("delivered", 1)]


async def test_a_page_made_while_an_older_one_waits_for_its_retry_waits_behind_it(settings_for, receiver, an_incident):
    """The first page is answered 500 and waits for its retry; a page made
    meanwhile to the same address is not sent before it (it overtook it: pages
    made during a webhook's outage reached the person out of order)."""
    settings = settings_for()
    receiver.script = [500]
    async with api_without_worker(settings) as api:
        [first] = await accept_pages(api, receiver, an_incident, 1, path="same")
        workers = Workers(settings)
        try:
            worker = workers.make()
            assert await worker.run_once() == 1
            [second] = await accept_pages(api, receiver, an_incident, 1, path="same")
            assert await worker.run_once() == 0  # due, but behind the first one's retry
            workers.clock.advance(timedelta(seconds=60))
            while await worker.run_once():
                pass
        finally:
            await workers.close()
        rows = [await history(api, notification_id) for notification_id in (first, second)]

    assert [r.headers["X-Notification-Id"] for r in receiver.received] == [first, first, second]
    assert [(row["status"], row["attempts"]) for row in rows] == [("delivered", 2), ("delivered", 1)]


class InstantChannel:
    """A receiver that answers at once: a lane's sends all finish before its first outcome is written."""

    def __init__(self, status: int = 200) -> None:
        self.sent: list[str] = []
        self.statuses = [status]  # the answers, in order; the last one for every later send

    async def send(self, *, target: str, context: dict, now: datetime) -> AttemptResult:
        self.sent.append(context["notification_id"])
        status = self.statuses.pop(0) if len(self.statuses) > 1 else self.statuses[0]
        return AttemptResult(Outcome.SUCCESS, response_status=status)


async def test_outcomes_that_come_while_a_write_is_under_way_are_written_together(settings_for, receiver, an_incident):
    """One person's five pages: their outcomes go in one transaction, not one each (a
    commit per send was a third of the service's CPU in a storm), and each is recorded."""
    settings = settings_for()
    async with api_without_worker(settings) as api:
        ids = await accept_pages(api, receiver, an_incident, 5, path="same")
        workers = Workers(settings)
        try:
            worker = workers.make()
            channel = InstantChannel()
            worker.channels = {"webhook": channel}
            commits: list[object] = []
            sa.event.listen(worker.db.engine.sync_engine, "commit", commits.append)
            assert await worker.deliver_due() == 5
        finally:
            await workers.close()
        rows = [await history(api, notification_id) for notification_id in ids]

    assert channel.sent == ids, "in order"
    assert len(commits) == 2, "the claim, then the five outcomes together"
    assert [(row["status"], row["attempts"], len(row["attempt_history"])) for row in rows] == [("delivered", 1, 1)] * 5


async def test_an_outcome_that_cannot_be_stored_costs_only_itself(settings_for, receiver, an_incident):
    """The third of five outcomes does not fit its column (a status beyond an integer):
    written together, the other four would be lost with it; they are stored each alone."""
    settings = settings_for()
    async with api_without_worker(settings) as api:
        ids = await accept_pages(api, receiver, an_incident, 5, path="same")
        workers = Workers(settings)
        try:
            worker = workers.make()
            channel = InstantChannel()
            channel.statuses = [200, 200, 2**40, 200]
            worker.channels = {"webhook": channel}
            with pytest.raises(sa.exc.DBAPIError):
                await worker.deliver_due()
        finally:
            await workers.close()
        rows = [await history(api, notification_id) for notification_id in ids]

    assert channel.sent == ids
    assert [(row["status"], row["attempts"]) for row in rows] == [("delivered", 1)] * 2 + [("sending", 1)] + [
        ("delivered", 1)
    ] * 2
