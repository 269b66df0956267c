"""The delivery queue's use cases: claim due notifications, record an attempt's outcome."""

import re
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from notification_service.channels.base import AttemptResult
from notification_service.db import queries
from notification_service.domain.retry import NextStep, Outcome, next_step
from platform_common.retry import retry_at
from platform_db.models import Notification

ABANDONED_ERROR = "the worker stopped before the attempt finished (its lease expired)"


@dataclass(frozen=True)
class Claim:
    """One notification reserved for this worker until `lease_until`."""

    id: uuid.UUID
    lock_token: uuid.UUID
    attempt: int
    max_attempts: int
    channel: str
    target: str
    recipient: str
    event: str
    payload: dict[str, Any]


@dataclass(frozen=True)
class ClaimBatch:
    """The notifications one worker claimed for one pass."""

    claims: list[Claim]
    # Channels of notifications that ran out of attempts through abandonment alone.
    exhausted: list[str]


async def claim_due(session: AsyncSession, *, now: datetime, limit: int, lease_seconds: float) -> ClaimBatch:
    """Reserve up to `limit` due notifications: each becomes `sending` with its
    attempt counted now, so a notification that kills its worker every time
    (a poison page) still runs out of attempts instead of looping forever."""
    claims: list[Claim] = []
    exhausted: list[str] = []
    lease_until = now + timedelta(seconds=lease_seconds)
    for row in await queries.claim_due(session, now=now, lease_until=lease_until, limit=limit):
        if row.status == "sending" and _abandoned(session, row, now):
            exhausted.append(row.channel or "none")
            continue
        row.status = "sending"
        row.attempts += 1
        row.lock_token = uuid.uuid4()
        row.locked_at = now
        row.updated_at = now
        claims.append(
            Claim(
                id=row.id,
                lock_token=row.lock_token,
                attempt=row.attempts,
                max_attempts=row.max_attempts,
                channel=row.channel or "log",
                target=row.target or "",
                recipient=row.recipient,
                event=row.event,
                payload=row.payload,
            )
        )
    return ClaimBatch(claims, exhausted)


def _abandoned(session: AsyncSession, row: Notification, now: datetime) -> bool:
    """A dead worker's claim, its lease run out: the attempt it started is recorded
    as abandoned. True when that was the last attempt (the row fails, and its
    result is owed to the caller)."""
    started = row.locked_at or now
    queries.add_attempt(
        session,
        notification_id=row.id,
        attempt=row.attempts,
        result="abandoned",
        error=ABANDONED_ERROR,
        response_status=None,
        duration_ms=max(0.0, (now - started).total_seconds() * 1000),
        started_at=started,
    )
    if row.attempts < row.max_attempts:
        return False
    row.status, row.last_error, row.lock_token, row.updated_at = "failed", ABANDONED_ERROR, None, now
    if row.callback_url:
        row.callback_due_at = now
    return True


async def record_attempt(
    session: AsyncSession,
    *,
    claim: Claim,
    result: AttemptResult,
    started_at: datetime,
    duration_ms: float,
    now: datetime,
    retry_base: float,
    retry_cap: float,
    rand: float,
) -> tuple[NextStep, bool]:
    """Store the attempt and move the notification on (delivered, retry later, failed).

    Returns the step and whether the claim was still ours; if the lease ran out
    and another worker took over, only the attempt is recorded (it happened).
    """
    step = next_step(
        outcome=result.outcome,
        attempts=claim.attempt,
        max_attempts=claim.max_attempts,
        now=now,
        base=retry_base,
        cap=retry_cap,
        rand=rand,
        retry_after=result.retry_after,
    )
    queries.add_attempt(
        session,
        notification_id=claim.id,
        attempt=claim.attempt,
        result=result.outcome.value,
        error=result.error,
        response_status=result.response_status,
        duration_ms=duration_ms,
        started_at=started_at,
    )
    delivered = result.outcome is Outcome.SUCCESS
    final = step.status in ("delivered", "failed")
    owned = await queries.finish_claim(
        session,
        notification_id=claim.id,
        lock_token=claim.lock_token,
        values={
            "status": step.status,
            "next_attempt_at": step.next_attempt_at or now,
            "last_error": None if delivered else result.error,
            "delivered_at": now if delivered else None,
            "updated_at": now,
            # The final result is owed to the caller who asked for it, stored with it (never lost).
            "callback_due_at": queries.now_if_callback(now) if final else None,
        },
    )
    return step, owned


async def hold_claims(session: AsyncSession, *, claims: list[Claim], until: datetime, now: datetime) -> None:
    """Give claims back unsent, due at `until` (an earlier page's retry to the same
    address): their attempt was never made, so it is not counted."""
    for claim in claims:
        await queries.finish_claim(
            session,
            notification_id=claim.id,
            lock_token=claim.lock_token,
            values={
                "status": "pending",
                "attempts": Notification.attempts - 1,
                "next_attempt_at": until,
                "updated_at": now,
            },
        )


@dataclass(frozen=True)
class Report:
    """One final result owed to the caller's callback URL, claimed until the lease ends."""

    notification_id: uuid.UUID
    url: str
    attempts: int
    body: dict[str, Any]


# incident-management's callback (`.../api/v1/incidents/{id}/deliveries`) and its batch
# route, which takes many of those reports in one request.
_INCIDENT_CALLBACK = re.compile(r"^(?P<base>.*/api/v1/incidents)/(?P<incident>[^/?#]+)/deliveries$")


def batch_report(report: Report) -> tuple[str, dict[str, Any]] | None:
    """Where a report can go together with others (the batch URL), and its item there;
    None for a callback that has no batch route (reported alone)."""
    match = _INCIDENT_CALLBACK.match(report.url)
    if match is None:
        return None
    return f"{match['base']}/deliveries/batch", {**report.body, "incident_id": match["incident"]}


async def claim_reports(session: AsyncSession, *, now: datetime, limit: int, lease_seconds: float) -> list[Report]:
    """Take due result reports (owed to the callers of pages) under a lease."""
    rows = await queries.claim_reports(
        session, now=now, lease_until=now + timedelta(seconds=lease_seconds), limit=limit
    )
    return [
        Report(
            notification_id=row.id,
            url=row.callback_url or "",
            attempts=row.callback_attempts,
            body={
                "notification_id": str(row.id),
                "idempotency_key": row.idempotency_key,
                "incident_id": str(row.incident_id) if row.incident_id else None,
                "recipient": row.recipient,
                "channel": row.channel,
                "target": row.target,
                "status": row.status,
                "error": row.last_error,
                "attempts": row.attempts,
                "delivered_at": row.delivered_at.isoformat() if row.delivered_at else None,
            },
        )
        for row in rows
        if row.callback_url
    ]


async def record_reports(
    session: AsyncSession,
    *,
    answers: list[tuple[Report, bool]],
    now: datetime,
    retry_base: float,
    retry_cap: float,
    max_attempts: int,
) -> list[bool]:
    """Each report the caller took (or refused for good): nothing more is owed.
    Otherwise it is tried again with the platform's backoff, up to `max_attempts`.
    Written in one statement; returns, for each, whether another try is due."""
    again = [not taken and report.attempts + 1 < max_attempts for report, taken in answers]
    await queries.finish_reports(
        session,
        reports=[
            (
                report.notification_id,
                report.attempts + 1,
                retry_at(now, report.attempts + 1, base=retry_base, cap=retry_cap) if retry else None,
            )
            for (report, _), retry in zip(answers, again, strict=True)
        ],
    )
    return again
