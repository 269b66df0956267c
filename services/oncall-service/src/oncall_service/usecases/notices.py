""" "You are on call": find the shift starts, ends and weekly summaries due, store
them as owed (once each, by key), and record what became of each send."""

import uuid
from collections import defaultdict
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from oncall_service.clients.notifications import Notice
from oncall_service.db import notices, queries
from oncall_service.domain import notices as words
from oncall_service.domain.schedule import FinalShift, final_shifts
from oncall_service.usecases.schedules import to_domain_layers, to_domain_overrides
from platform_common.retry import retry_at
from platform_db.models import ShiftNotice, User

# Shifts are computed this far past the window on both sides, so a cut at the
# edge of the computed range is never mistaken for a handover.
_MARGIN = timedelta(days=1)


async def owe_due_notices(session: AsyncSession, *, now: datetime, lookback: timedelta) -> int:
    """Store every notice due at `now`: shift starts and ends in (now - lookback, now]
    (a late cycle, or one after a restart, still sends them) and the weekly summaries
    due. Each has one key, so a notice stored before is not stored again. How many are new."""
    schedules = await notices.every_schedule(session)
    start, end = now - lookback - _MARGIN, now + words.SUMMARY_SPAN + _MARGIN
    overrides = to_domain_overrides(
        await queries.overrides_between(session, schedule_ids=[s.id for s in schedules], start=start, end=end)
    )
    found: list[tuple[str, str, words.Boundary]] = []
    upcoming: dict[str, list[tuple[str, FinalShift]]] = defaultdict(list)
    for schedule in schedules:
        shifts = final_shifts(to_domain_layers(schedule), overrides[schedule.id], start, end)
        found += [
            (str(schedule.id), schedule.name, b) for b in words.boundaries(shifts, after=now - lookback, until=now)
        ]
        for shift in shifts:
            if shift.end > now and shift.start < now + words.SUMMARY_SPAN:
                upcoming[shift.user_id].append((schedule.name, shift))
    users = await queries.rows_by_ids(
        session, model=User, ids={uuid.UUID(b.user_id) for _, _, b in found} | {uuid.UUID(u) for u in upcoming}
    )
    owed = []
    for schedule_id, name, boundary in found:
        user = users[uuid.UUID(boundary.user_id)]
        message = words.boundary_message(boundary, schedule=name, timezone=user.timezone)
        owed.append(_owed(boundary.key(schedule_id), user.id, boundary.kind, message))
    for user_id, shifts in upcoming.items():
        user = users[uuid.UUID(user_id)]
        week = words.summary_week(now, user.timezone)
        if week is not None:
            message = words.summary_message(shifts, timezone=user.timezone)
            owed.append(_owed(f"shift_summary:{user_id}:{week}", user.id, "shift_summary", message))
    return await notices.owe(session, notices=owed, now=now)


def _owed(key: str, user_id: uuid.UUID, kind: str, message: str) -> dict:
    return {"notice_key": key, "user_id": user_id, "kind": kind, "message": message}


async def claim_notices(session: AsyncSession, *, now: datetime, lease: timedelta, limit: int) -> list[Notice]:
    """Claim the notices due and make each into what notification-service is sent:
    the notice's key is its idempotency key, so a resend after a crash is recognised
    there too. A user with no contact method has their notice given up at once."""
    claimed = await notices.claim(session, now=now, lease_until=now + lease, limit=limit)
    users = await queries.rows_by_ids(session, model=User, ids={n.user_id for n in claimed})
    ready = []
    for notice in claimed:
        user = users.get(notice.user_id)
        if user is None or not user.contact_methods:
            _give_up(notice, "the user has no contact method", now)
            continue
        first = user.contact_methods[0]
        ready.append(
            Notice(
                idempotency_key=f"notice:{notice.notice_key}",
                event=notice.kind,
                user_id=str(user.id),
                name=user.name,
                contact_methods=[{"type": first.type, "address": first.address}],
                message=notice.message,
            )
        )
    return ready


def _give_up(notice: ShiftNotice, error: str, now: datetime) -> None:
    notice.status = "failed"
    notice.last_error = error
    notice.attempts += 1
    notice.next_attempt_at = now


async def record(
    session: AsyncSession,
    *,
    key: str,
    error: str | None,
    final: bool,
    now: datetime,
    retry_base: float,
    retry_cap: float,
) -> None:
    """What became of one send: sent (no error), given up (`final`), or to be retried after a backoff."""
    notice_key = key.removeprefix("notice:")
    found = await notices.by_key(session, notice_key=notice_key)
    if found is None or found.status != "pending":
        return
    if error is None:
        found.status, found.sent_at, found.last_error = "sent", now, None
        found.attempts += 1
    elif final:
        _give_up(found, error, now)
    else:
        found.attempts += 1
        found.last_error = error
        found.next_attempt_at = retry_at(now, found.attempts, base=retry_base, cap=retry_cap)
