"""The page outbox's rows (`incident_pages`). Keyword-only; none of them commits."""

import uuid
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from incident_management.domain.escalation import page_key
from incident_management.domain.rules import NOTICE_PREFIX, PlannedPage
from platform_common import queue
from platform_db.models import Page


async def pages(session: AsyncSession, *, incident_id: uuid.UUID) -> list[Page]:
    """An incident's pages, oldest first."""
    query = select(Page).where(Page.incident_id == incident_id).order_by(Page.created_at, Page.recipient)
    return list((await session.execute(query)).scalars())


async def enqueue_pages(
    session: AsyncSession,
    *,
    incident_id: uuid.UUID,
    step_key: str,
    event: str,
    recipients: Mapping[str, dict[str, Any] | None],
    now: datetime,
    reason: str,
    names: Mapping[str, str] | None = None,
) -> int:
    """Put a page for each recipient (user id -> their contact methods and mutes if
    known; None: looked up before sending) in the outbox, due now. `reason` says why
    it is sent, `names` how to name each recipient (user id -> name). How many are new."""
    planned = [PlannedPage(recipient, step_key, contact, now) for recipient, contact in recipients.items()]
    return await enqueue_planned(
        session, incident_id=incident_id, event=event, planned=planned, now=now, reason=reason, names=names
    )


async def enqueue_planned(
    session: AsyncSession,
    *,
    incident_id: uuid.UUID,
    event: str,
    planned: Sequence[PlannedPage],
    now: datetime,
    reason: str,
    names: Mapping[str, str] | None = None,
) -> int:
    """Put these pages in the outbox, each due at its time, in one statement, except
    where this (incident, step, user) has one already. How many are new."""
    if not planned:
        return 0
    rows = [
        {
            "id": uuid.uuid4(),
            "incident_id": incident_id,
            "step_key": page.step_key,
            "recipient": page.recipient,
            "event": event,
            "idempotency_key": page_key(str(incident_id), page.step_key, page.recipient),
            "status": "pending",
            "attempts": 0,
            "next_attempt_at": page.due_at,
            "due_at": page.due_at,
            "contact": page.contact,
            "reason": reason,
            "recipient_name": (names or {}).get(page.recipient),
            "notifications": [],
            "tracking": False,
            "created_at": now,
            "updated_at": now,
        }
        for page in planned
    ]
    result = await session.execute(insert(Page).values(rows).on_conflict_do_nothing())
    return int(result.rowcount or 0)


async def cancel_pending_pages(session: AsyncSession, *, incident_id: uuid.UUID, now: datetime) -> int:
    """Pages not yet handed over (later steps of notification rules included) must not
    go out once someone has responded; notices of earlier changes still go out."""
    result = await session.execute(
        update(Page)
        .where(Page.incident_id == incident_id, Page.status == "pending", ~Page.step_key.startswith(NOTICE_PREFIX))
        .values(status="cancelled", updated_at=now, last_error="incident no longer unacknowledged")
    )
    return int(result.rowcount or 0)


async def paged_recipients(session: AsyncSession, *, incident_id: uuid.UUID) -> list[tuple[str, str | None]]:
    """Everyone a page for this incident was handed over to (notices aside), first paged
    first: (user id, their name as the page named them)."""
    query = (
        select(Page.recipient, Page.recipient_name)
        .where(Page.incident_id == incident_id, Page.status == "sent", ~Page.step_key.startswith(NOTICE_PREFIX))
        .order_by(Page.sent_at, Page.recipient)
    )
    return [(recipient, name) for recipient, name in (await session.execute(query)).all()]


async def claim_pages(session: AsyncSession, *, now: datetime, lease_until: datetime, limit: int) -> list[Page]:
    """Pages due for sending. The lease is `next_attempt_at` itself: a claimed page
    is not due again until it runs out (or the send is recorded)."""
    return await queue.claim(
        session,
        Page,
        due=Page.status == "pending",
        order_by=[Page.created_at],
        lease=Page.next_attempt_at,
        now=now,
        lease_until=lease_until,
        limit=limit,
    )


async def lock_pages(session: AsyncSession, *, page_ids: list[uuid.UUID]) -> dict[uuid.UUID, Page]:
    """Several pages by id, fresh and locked in one statement (in id order); a missing id is left out."""
    query = (
        select(Page)
        .where(Page.id.in_(page_ids))
        .order_by(Page.id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    return {page.id: page for page in (await session.execute(query)).scalars()}


async def pages_by_keys(session: AsyncSession, *, idempotency_keys: list[str]) -> dict[str, Page]:
    """The pages notification-service knows by these keys, fresh and locked in one
    statement, in (incident, key) order; a key no page has is left out."""
    query = (
        select(Page)
        .where(Page.idempotency_key.in_(idempotency_keys))
        .order_by(Page.incident_id, Page.idempotency_key)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    return {page.idempotency_key: page for page in (await session.execute(query)).scalars()}


async def page_by_key(session: AsyncSession, *, incident_id: uuid.UUID, idempotency_key: str) -> Page | None:
    """The page notification-service knows by this key, locked: results of one page are folded in one at a time."""
    return await _locked(session, Page.incident_id == incident_id, Page.idempotency_key == idempotency_key)


async def _locked(session: AsyncSession, *conditions: Any) -> Page | None:
    # Fresh from the database, never a stale identity-map copy: the caller changes it.
    query = select(Page).where(*conditions).with_for_update().execution_options(populate_existing=True)
    return (await session.execute(query)).scalar_one_or_none()
