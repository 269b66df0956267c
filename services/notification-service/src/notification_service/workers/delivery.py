"""The delivery worker: claims due notifications from the database, sends them, records the outcome,
and reports final outcomes to the callers that asked (`callback_url`).

Runs as two asyncio tasks in the service (NOTIFICATION_WORKER_ENABLED), any
number of replicas side by side: the database is the queue, so nothing is
kept in memory that a crash could lose. Deliveries and result reports are
loops of their own, so a slow caller never holds back the next pages (as one
loop, every batch of deliveries also waited for the previous batch's reports).

A batch is sent side by side across recipients and in order for each one:
one person's pages reach them oldest first, while another person's receiver
is not kept waiting behind them. When a send is to be retried, that
person's later pages to the same address are given back unsent, due with the
retry: they do not overtake it, and a receiver that hangs costs the batch one
timeout, not one per page (bench/faults.py webhook-hang).
"""

import asyncio
import logging
import random
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import httpx
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError

from notification_service.channels.base import AttemptResult, Channel, short
from notification_service.config import Settings
from notification_service.domain.messages import message_context
from notification_service.domain.retry import NextStep, Outcome
from notification_service.metrics import DELIVERY_SECONDS, NOTIFICATIONS_SENT, WORKER_CYCLE_SECONDS
from notification_service.rendering import TemplateProblem
from notification_service.usecases.delivery import (
    Claim,
    Report,
    batch_report,
    claim_due,
    claim_reports,
    hold_claims,
    record_attempt,
    record_reports,
)
from platform_common.auth import internal_headers, masked_address
from platform_common.clock import Clock, SystemClock
from platform_common.db import Database
from platform_common.retry import backoff_seconds
from platform_common.worker import Worker

log = logging.getLogger(__name__)

# incident-management's batch route takes at most this many results per request.
MAX_REPORT_BATCH = 100

STEP_RESULTS = {"delivered": "delivered", "pending": "retry", "failed": "failed"}


class DeliveryWorker:
    """Delivers due notifications in the background, with retries."""

    def __init__(
        self,
        *,
        db: Database,
        channels: Mapping[str, Channel],
        settings: Settings,
        clock: Clock | None = None,
        rand: Callable[[], float] = random.random,
        callbacks: httpx.AsyncClient | None = None,
    ) -> None:
        self.db = db
        self.channels = channels
        self.settings = settings
        self.clock = clock or SystemClock()
        self.rand = rand
        # No redirects: a report goes where the caller said, nowhere else. Its
        # own client, never the channels': it carries the internal credential,
        # which only the platform's services (the callers of /notify) may see.
        self.callbacks = callbacks or httpx.AsyncClient(
            timeout=settings.notification_http_timeout_seconds,
            follow_redirects=False,
            headers=internal_headers(settings.internal_tokens),
        )
        self.worker = Worker(
            "delivery worker",
            self._deliveries,
            interval=settings.notification_poll_seconds,
            grace=settings.graceful_shutdown_seconds,
        )
        self.reporter = Worker(
            "result reports",
            self._reports,
            interval=settings.notification_poll_seconds,
            grace=settings.graceful_shutdown_seconds,
        )

    def start(self) -> None:
        """Start the delivery and report loops."""
        self.worker.start()
        self.reporter.start()

    def wake(self) -> None:
        """Look for work now (a page was just accepted here) instead of at the next poll."""
        self.worker.wake()

    async def stop(self) -> None:
        """Stop the loops as every worker stops (platform_common.worker), then close the callbacks' client."""
        await asyncio.gather(self.worker.stop(), self.reporter.stop())
        await self.callbacks.aclose()

    async def _deliveries(self) -> bool:
        # A full batch: more may be due, no pause while there is a backlog.
        return await self.deliver_due() >= self.settings.notification_batch_size

    async def _reports(self) -> bool:
        return await self.report_due() >= self.settings.notification_batch_size

    async def run_once(self) -> int:
        """Deliver a batch, then report the final results owed (tests step the worker with it)."""
        return await self.deliver_due() + await self.report_due()

    async def deliver_due(self) -> int:
        """Claim a batch, deliver it (side by side across recipients, in order for each),
        record each outcome. Returns how many were claimed."""
        started = time.perf_counter()
        async with self.db.sessionmaker() as session, session.begin():
            batch = await claim_due(
                session,
                now=self.clock.now(),
                limit=self.settings.notification_batch_size,
                lease_seconds=self.settings.notification_lease_seconds,
            )
        for channel in batch.exhausted:
            NOTIFICATIONS_SENT.labels(channel, "failed").inc()
        lanes: dict[str, list[Claim]] = {}
        for claim in batch.claims:  # oldest first, as claimed
            lanes.setdefault(claim.recipient, []).append(claim)
        if lanes:
            await asyncio.gather(*(self._deliver_in_order(claims) for claims in lanes.values()))
        if batch.claims or batch.exhausted:
            self.reporter.wake()  # their final results are owed now
        WORKER_CYCLE_SECONDS.observe(time.perf_counter() - started)
        return len(batch.claims) + len(batch.exhausted)

    async def _deliver_in_order(self, claims: list[Claim]) -> None:
        """One recipient's deliveries: each send waits for the one before (they arrive
        in order), each outcome is recorded beside the next sends (a commit per send
        would otherwise pace one person's storm of pages). After a send to be
        retried, the later ones to the same address wait for its retry."""
        recorder = _GroupWriter(self._record)
        recording = []
        retry_at: dict[tuple[str, str], datetime] = {}  # (channel, target) -> its failed page's retry
        held: list[Claim] = []
        for claim in claims:
            address = (claim.channel, claim.target)
            if address in retry_at:
                held.append(claim)
                continue
            started_at = self.clock.now()
            started = time.perf_counter()
            result = await self._send(claim)
            duration = time.perf_counter() - started
            recording.append(recorder.add(_Sent(claim, result, started_at, duration, self._give_up(duration))))
            if result.outcome is Outcome.RETRYABLE:
                step = await recording[-1]
                if step is not None and step.next_attempt_at is not None:
                    retry_at[address] = step.next_attempt_at
        await asyncio.gather(*recording)
        if held:
            # Due with the retry of their address's failed page, which the claim's created_at order keeps first.
            async with self.db.sessionmaker() as session, session.begin():
                for address in retry_at:
                    await hold_claims(
                        session,
                        claims=[claim for claim in held if (claim.channel, claim.target) == address],
                        until=retry_at[address],
                        now=self.clock.now(),
                    )

    async def report_due(self) -> int:
        """POST owed final results to their callers; a caller that is down gets them later."""
        async with self.db.sessionmaker() as session, session.begin():
            reports = await claim_reports(
                session,
                now=self.clock.now(),
                limit=self.settings.notification_batch_size,
                lease_seconds=self.settings.notification_lease_seconds,
            )
        # incident-management's reports go in one request per batch route (one request
        # and one commit instead of one per delivery); any other caller's alone.
        batches: dict[str, list[tuple[Report, dict[str, Any]]]] = {}
        alone: list[Report] = []
        for report in reports:
            batched = batch_report(report)
            if batched is None:
                alone.append(report)
            else:
                batches.setdefault(batched[0], []).append((report, batched[1]))
        await asyncio.gather(
            *(self._report(report) for report in alone),
            *(
                self._report_batch(url, items[i : i + MAX_REPORT_BATCH])
                for url, items in batches.items()
                for i in range(0, len(items), MAX_REPORT_BATCH)
            ),
        )
        return len(reports)

    async def _write_attempts(self, sent: list["_Sent"]) -> list[tuple[NextStep, bool]]:
        """The attempts' outcomes, in one transaction."""
        async with self.db.sessionmaker() as session, session.begin():
            return [
                await record_attempt(
                    session,
                    claim=item.claim,
                    result=item.result,
                    started_at=item.started_at,
                    duration_ms=round(item.duration * 1000, 3),
                    now=self.clock.now(),
                    retry_base=self.settings.notification_retry_base_seconds,
                    retry_cap=self.settings.notification_retry_max_seconds,
                    rand=self.rand(),
                )
                for item in sent
            ]

    async def _report(self, report: Report) -> None:
        try:
            response = await self.callbacks.post(report.url, json=report.body)
            answer = _answer(response.status_code)
        except httpx.HTTPError as exc:
            answer = (False, type(exc).__name__)
        await self._record_reports([(report, *answer)])

    async def _report_batch(self, url: str, items: list[tuple[Report, dict[str, Any]]]) -> None:
        """Many reports to one batch route, each taken or refused on its own; an
        incident-management without the route (404/405: a rolling deploy) gets them one by one."""
        reports = [report for report, _ in items]
        try:
            response = await self.callbacks.post(url, json={"items": [item for _, item in items]})
        except httpx.HTTPError as exc:
            await self._record_reports([(report, False, type(exc).__name__) for report in reports])
            return
        if response.status_code in (404, 405):
            await asyncio.gather(*(self._report(report) for report in reports))
            return
        answers = [_answer(response.status_code)] * len(reports)
        if response.status_code == 200:
            try:
                results = response.json()["results"]
                answers = [_answer(int(result["status_code"])) for result in results]
            except (ValueError, KeyError, TypeError):
                results = []
            if len(results) != len(reports):  # an answer that does not match: all are tried again
                answers = [(False, "a batch answer without a result per report")] * len(reports)
        await self._record_reports([(report, *answer) for report, answer in zip(reports, answers, strict=True)])

    async def _record_reports(self, answers: list[tuple[Report, bool, str | None]]) -> None:
        """Each report taken (nothing more owed) or due again with backoff, in one transaction."""
        async with self.db.sessionmaker() as session, session.begin():
            retrying = await record_reports(
                session,
                answers=[(report, taken) for report, taken, _ in answers],
                now=self.clock.now(),
                retry_base=self.settings.notification_retry_base_seconds,
                retry_cap=self.settings.notification_retry_max_seconds,
                max_attempts=self.settings.notification_callback_max_attempts,
            )
        for (report, _, error), again in zip(answers, retrying, strict=True):
            if error is not None:
                fields = {"notification_id": str(report.notification_id), "error": error, "retrying": again}
                log.warning("result report not taken by the caller", extra=fields)

    def _give_up(self, duration: float) -> float:
        """Until when (time.monotonic) a sent page's outcome is worth trying to record:
        before its lease runs out and another worker sends it again."""
        return time.monotonic() + self.settings.notification_lease_seconds - duration - 5

    async def _record(self, sent: list["_Sent"]) -> list["NextStep | Exception | None"]:
        """Store the attempts' outcomes together; for each, the step it led to, None if
        the lease was lost, or why it could not be stored. One that cannot be stored
        (a bug, not the database away) costs only itself: then each is stored alone."""
        for item in sent:
            DELIVERY_SECONDS.labels(item.claim.channel).observe(item.duration)
        # The pages went out: their outcomes must be recorded, or the rows are sent
        # again once their leases run out (a second page at the receiver). While
        # the database is away (a restart) the write is tried again, until a lease
        # is nearly over; a PostgreSQL restart mid-storm paged 4 of 120 incidents
        # twice when it was tried once (bench/faults.py).
        give_up = min(item.give_up for item in sent)
        failures = 0
        while True:
            try:
                written = await self._write_attempts(sent)
                break
            except Exception as exc:
                if not (isinstance(exc, DBAPIError | OSError) and _database_away(exc)):
                    if len(sent) == 1:
                        raise
                    return [await _alone(self._record([item])) for item in sent]
                failures += 1
                wait = backoff_seconds(failures, base=0.5, cap=5.0, rand=self.rand)
                if time.monotonic() + wait > give_up:
                    raise
                log.warning(
                    "recording deliveries failed; trying again",
                    extra={"notification_ids": [str(item.claim.id) for item in sent], "error": type(exc).__name__},
                )
                await asyncio.sleep(wait)
        return [self._recorded(item, step, owned) for item, (step, owned) in zip(sent, written, strict=True)]

    def _recorded(self, item: "_Sent", step: NextStep, owned: bool) -> NextStep | None:
        claim, result = item.claim, item.result
        fields = {
            "notification_id": str(claim.id),
            "channel": claim.channel,
            # Where it went, never the credential a Slack or webhook URL carries.
            "target": masked_address(claim.channel, claim.target),
            "attempt": claim.attempt,
            "status": step.status,
            "error": result.error,
        }
        if not owned:
            log.warning("lease lost before the outcome was recorded; another worker owns the row", extra=fields)
            return None
        NOTIFICATIONS_SENT.labels(claim.channel, STEP_RESULTS[step.status]).inc()
        level = logging.INFO if step.status == "delivered" else logging.WARNING
        log.log(level, "notification %s", step.status, extra=fields)
        return step

    async def _send(self, claim: Claim) -> AttemptResult:
        channel = self.channels.get(claim.channel)
        if channel is None:
            return AttemptResult(Outcome.PERMANENT, f"channel {claim.channel} is not available")
        context = message_context(
            notification_id=str(claim.id),
            event=claim.event,
            incident=claim.payload["incident"],
            message=claim.payload.get("message"),
            recipient=claim.recipient,
            ui_base_url=self.settings.ui_base_url,
            actions=claim.payload.get("actions"),
        )
        try:
            return await channel.send(target=claim.target, context=context, now=self.clock.now())
        except TemplateProblem as exc:
            return AttemptResult(Outcome.PERMANENT, short(str(exc)))
        except Exception as exc:
            # A bug must not wedge the row: count it as a failed try, and retry.
            log.exception("channel %s raised", claim.channel, extra={"notification_id": str(claim.id)})
            return AttemptResult(Outcome.RETRYABLE, short(f"internal error: {type(exc).__name__}"))


@dataclass(frozen=True)
class _Sent:
    """An attempt made, its outcome still to be recorded."""

    claim: Claim
    result: AttemptResult
    started_at: datetime
    duration: float
    give_up: float  # time.monotonic() after which recording it is not tried again


async def _alone(recording: Awaitable[list[NextStep | Exception | None]]) -> NextStep | Exception | None:
    """One attempt's outcome recorded by itself: its step, or why it could not be stored."""
    try:
        return (await recording)[0]
    except Exception as exc:
        return exc


class _GroupWriter:
    """Writes one lane's outcomes as they come: those that come while a write is under
    way go together in the next write (one transaction for several; a transaction per
    send was a third of notification-service's CPU in a storm). A page is never left
    unrecorded longer than before: its write starts as soon as the one before ends."""

    def __init__(self, write: Callable[[list[_Sent]], Awaitable[list[NextStep | Exception | None]]]) -> None:
        self._write = write
        self._waiting: list[tuple[_Sent, asyncio.Future[NextStep | None]]] = []
        self._writing: asyncio.Task[None] | None = None

    def add(self, sent: _Sent) -> "asyncio.Future[NextStep | None]":
        """Record `sent`; the future is its step (None: the lease was lost), or the write's error."""
        future: asyncio.Future[NextStep | None] = asyncio.get_running_loop().create_future()
        self._waiting.append((sent, future))
        if self._writing is None or self._writing.done():
            self._writing = asyncio.create_task(self._drain())
        return future

    async def _drain(self) -> None:
        while self._waiting:
            batch, self._waiting = self._waiting, []
            try:
                outcomes = await self._write([sent for sent, _ in batch])
            except Exception as exc:
                outcomes = [exc] * len(batch)
            for (_, future), outcome in zip(batch, outcomes, strict=True):
                if isinstance(outcome, Exception):
                    future.set_exception(outcome)
                else:
                    future.set_result(outcome)


def _database_away(exc: Exception) -> bool:
    """A lost or refused connection (worth waiting out), not a refused statement (a bug)."""
    if isinstance(exc, DBAPIError):
        return exc.connection_invalidated or isinstance(exc, OperationalError | InterfaceError)
    return True


def _answer(status_code: int) -> tuple[bool, str | None]:
    """Whether a report's answer settles it, and the error to log. A 4xx other than
    408/429 will not change on a retry (the caller does not know the page)."""
    taken = status_code < 500 and status_code not in (408, 429)
    return taken, None if 200 <= status_code < 300 else f"HTTP {status_code}"
