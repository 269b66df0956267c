"""The page outbox: what happened to a page, and to the deliveries it became
(notification-service reports each delivery's final result as it happens)."""

import uuid
from collections.abc import Mapping, Sequence
from datetime import datetime
from functools import partial
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from incident_management.clients.notifications import FINAL_STATUSES
from incident_management.db import pages, queries
from incident_management.domain.rules import RULE_STEP, is_notice
from incident_management.domain.state import Status
from incident_management.domain.timeline import ENGINE, NOTIFICATIONS, Entry
from incident_management.usecases.incidents import each_alone
from platform_common.auth import masked_address
from platform_common.errors import DomainError, NotFound
from platform_common.retry import retry_at
from platform_db.models import Incident, Page

# Step key prefix of the notice that an alert joined an acknowledged incident (one per alert).
ALERT_JOINED_STEP = "alert-joined-"


def still_wanted(page: Page, incident: Incident) -> bool:
    """A page is pointless once the incident is resolved, and an escalation page
    (or a later step of someone's notification rules) once someone acknowledged; a
    page about a manual assignment (its first step), or the notice that an alert joined the
    acknowledged incident, still goes out, and so does a notice of a change."""
    if is_notice(page.step_key):
        return True
    if incident.status == Status.RESOLVED:
        return False
    if incident.status == Status.OPEN:
        return True
    # A later step of someone's rules pages only while nobody has acknowledged.
    return page.step_key.startswith(("assigned-", ALERT_JOINED_STEP)) and RULE_STEP not in page.step_key


def incident_payload(incident: Incident, ui_base_url: str) -> dict[str, Any]:
    """The incident as notification-service's `POST /api/v1/notify` expects it."""
    return {
        "id": str(incident.id),
        "title": incident.title,
        "service": incident.service,
        "severity": incident.severity,
        "status": incident.status,
        "url": f"{ui_base_url.rstrip('/')}/incidents/{incident.id}",
    }


def cancel(page: Page, *, now: datetime) -> None:
    """Cancel a page that has not been sent."""
    page.status = "cancelled"
    page.last_error = "incident no longer needs this page"
    page.updated_at = now


def _final(page: Page, delivery: dict[str, Any]) -> Entry:
    """A delivery's final result, as notification-service reported it."""
    # The timeline is read by every viewer and never rewritten: a Slack or webhook
    # target, the recipient's credential, goes in as scheme and host only.
    target = masked_address(delivery.get("channel"), delivery.get("target"))
    channel = f"{delivery.get('channel')}" + (f" ({target})" if target else "")
    who = _name(page)
    if delivery.get("status") == "delivered":
        event, message = "notified", f"Page delivered to {who} via {channel}"
    else:
        reason = delivery.get("error") or delivery.get("status")
        event = "notification_failed"
        message = f"Page to {who} via {channel} was not delivered: {delivery.get('status')} ({reason})"
    data = {
        "recipient": page.recipient,
        "step": page.step_key,
        "notification_id": delivery.get("id"),
        "channel": delivery.get("channel"),
        "status": delivery.get("status"),
        "error": delivery.get("error"),
    }
    return Entry(NOTIFICATIONS, event, message, data)


def _name(page: Page) -> str:
    """How the timeline names a page's recipient: their name; the data keeps the id."""
    return page.recipient_name or page.recipient


def _is_final(delivery: dict[str, Any]) -> bool:
    return delivery.get("status") in FINAL_STATUSES


def record_sent(session: AsyncSession, *, page: Page, deliveries: list[dict[str, Any]], now: datetime) -> None:
    """notification-service accepted the page: it is sent, never to be sent again.

    A delivery may already have reported its result (a fast webhook can beat this
    transaction): that result is kept, and not written to the timeline twice."""
    reported = {str(d.get("id")): d for d in page.notifications if _is_final(d)}
    merged = [reported.get(str(d.get("id")), d) for d in deliveries]
    merged += [d for key, d in reported.items() if key not in {str(x.get("id")) for x in deliveries}]
    page.attempts += 1
    page.status = "sent"
    page.sent_at = now
    page.updated_at = now
    page.last_error = None
    page.notifications = merged
    page.tracking = not all(_is_final(d) for d in merged)
    channels = ", ".join(sorted({str(d.get("channel")) for d in deliveries})) or "no channel"
    retried = f" after {page.attempts} attempts" if page.attempts > 1 else ""
    data = {
        "recipient": page.recipient,
        "step": page.step_key,
        "event": page.event,
        "idempotency_key": page.idempotency_key,
        "notification_ids": [d.get("id") for d in deliveries],
    }
    if is_notice(page.step_key):
        told = Entry(ENGINE, "notice_sent", f"Told {_name(page)} it was {page.event} via {channels}{retried}", data)
    else:
        told = Entry(ENGINE, "paged", f"Paged {_name(page)} via {channels}{retried}", data)
    entries = [told]
    entries += [_final(page, d) for d in deliveries if _is_final(d) and str(d.get("id")) not in reported]
    queries.record(session, incident_id=page.incident_id, now=now, entries=entries)


def record_unavailable(
    session: AsyncSession, *, page: Page, error: str, now: datetime, retry_base: float, retry_cap: float
) -> None:
    """notification-service is down: keep the page and try again later (once per outage in the timeline)."""
    page.attempts += 1
    page.last_error = error
    page.updated_at = now
    page.next_attempt_at = retry_at(now, page.attempts, base=retry_base, cap=retry_cap)
    if page.attempts == 1:
        message = f"{error}; the page to {_name(page)} is kept and will be sent when it is back"
        _page_failed(session, page, message, error, retrying=True, now=now)


def record_rejected(session: AsyncSession, *, page: Page, error: str, now: datetime) -> None:
    """notification-service refused the page for good: give it up, and say so."""
    page.attempts += 1
    page.status = "failed"
    page.last_error = error
    page.updated_at = now
    _page_failed(session, page, f"{error}; the page to {_name(page)} was given up", error, retrying=False, now=now)


def _page_failed(session: AsyncSession, page: Page, message: str, error: str, *, retrying: bool, now: datetime) -> None:
    data = {"recipient": page.recipient, "step": page.step_key, "error": error, "retrying": retrying}
    queries.record(
        session, incident_id=page.incident_id, now=now, entries=[Entry(ENGINE, "page_failed", message, data)]
    )


def record_result(session: AsyncSession, *, page: Page, delivery: dict[str, Any], now: datetime) -> bool:
    """One delivery's final result, pushed by notification-service: into the page and,
    the first time only (reports are retried, so they may come twice), the timeline.
    Returns whether it was new."""
    key = str(delivery.get("id"))
    known = next((d for d in page.notifications if str(d.get("id")) == key), None)
    if known is not None and _is_final(known):
        return False
    merged = {**(known or {}), **delivery}
    page.notifications = [merged if str(d.get("id")) == key else d for d in page.notifications] + (
        [] if known is not None else [merged]
    )
    page.tracking = page.status == "pending" or not all(_is_final(d) for d in page.notifications)
    page.updated_at = now
    queries.record(session, incident_id=page.incident_id, now=now, entries=[_final(page, merged)])
    return True


async def record_delivery(
    session: AsyncSession, *, incident_id: uuid.UUID, idempotency_key: str, delivery: dict[str, Any], now: datetime
) -> bool:
    """record_result() into the page notification-service knows by this key (locked);
    NotFound when the incident has no such page. Returns whether the result was new."""
    page = await pages.page_by_key(session, incident_id=incident_id, idempotency_key=idempotency_key)
    return _record_into(session, page, incident_id, idempotency_key, delivery, now)


def _record_into(
    session: AsyncSession,
    page: Page | None,
    incident_id: uuid.UUID,
    idempotency_key: str,
    delivery: dict[str, Any],
    now: datetime,
) -> bool:
    if page is None or page.incident_id != incident_id:
        raise NotFound(f"Incident {incident_id} has no page {idempotency_key!r}")
    return record_result(session, page=page, delivery=delivery, now=now)


async def record_deliveries(
    session: AsyncSession, *, results: Sequence[Mapping[str, Any]], now: datetime
) -> list[bool | DomainError]:
    """Each as record_delivery(**result) would alone (an unknown page refuses only its own),
    answered in the order given. The batch's pages are read and locked in one statement,
    in one order (incident, key) whatever the request's, so two batches touching the same
    pages wait for each other instead of deadlocking; a read per result made a flush
    (and an insert and an update) per result too."""
    order = sorted(range(len(results)), key=lambda i: (str(results[i]["incident_id"]), results[i]["idempotency_key"]))
    keys = [results[i]["idempotency_key"] for i in order]
    locked = await pages.pages_by_keys(session, idempotency_keys=keys)

    async def read_again() -> None:
        await pages.pages_by_keys(session, idempotency_keys=keys)

    async def record(result: Mapping[str, Any]) -> bool:
        page = locked.get(result["idempotency_key"])
        return _record_into(session, page, result["incident_id"], result["idempotency_key"], result["delivery"], now)

    done = await each_alone(session, (partial(record, results[i]) for i in order), before_again=read_again)
    answers: list[bool | DomainError] = [False] * len(results)
    for i, answer in zip(order, done, strict=True):
        answers[i] = answer
    return answers
