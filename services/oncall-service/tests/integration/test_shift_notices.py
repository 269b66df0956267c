"""The "you are on call" loop against PostgreSQL, on a hand-moved clock: shift
starts and ends are told once each (restarts included), the weekly summary on
Monday morning, and a user with no contact method is given up, not retried."""

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from oncall_service.clients.notifications import Notice
from oncall_service.config import Settings
from oncall_service.main import create_app
from oncall_service.workers.notices import NoticeLoop
from platform_common.clock import ManualClock
from platform_db.models import ShiftNotice
from platform_testing import as_service, free_port, running_app

SUNDAY_NOON = datetime(2026, 3, 1, 12, tzinfo=UTC)


class FakeNotifications:
    """notification-service as far as the loop sees it: takes every notice."""

    def __init__(self) -> None:
        self.sent: list[Notice] = []

    async def notify(self, notice: Notice) -> list[dict[str, Any]]:
        self.sent.append(notice)
        return [{"id": str(len(self.sent)), "status": "pending"}]


@pytest.fixture
async def platform(clean_database):
    clock = ManualClock(SUNDAY_NOON)
    settings = Settings(
        database_url=as_service(clean_database, "oncall_service"),
        environment="test",
        oncall_notice_enabled=False,
        notification_service_url=f"http://127.0.0.1:{free_port()}",
    )
    app = create_app(settings, clock=clock)
    async with running_app(app) as http:
        yield app, http, clock


def _loop(app, clock, notifications) -> NoticeLoop:
    return NoticeLoop(db=app.state.db, clock=clock, settings=app.state.settings, client=notifications)


async def _user(http, name: str, *, contact: bool = True) -> str:
    methods = [{"type": "webhook", "address": f"https://hooks.example.com/{name}"}] if contact else []
    made = await http.post(
        "/api/v1/users",
        json={
            "name": name,
            "email": f"{name.lower()}@example.com",
            "contact_methods": methods,
            "timezone": "Europe/Berlin",
        },
    )
    assert made.status_code == 201, made.text
    return made.json()["id"]


async def test_shift_starts_and_ends_are_told_once_and_monday_brings_the_summary(platform):
    app, http, clock = platform
    ann, ben = await _user(http, "Ann"), await _user(http, "Ben")
    layer = {
        "name": "daily",
        "rotation_type": "daily",
        "start_date": "2026-03-01",
        "handoff_time": "09:00",
        "members": [ann, ben],
    }
    made = await http.post("/api/v1/schedules", json={"name": "primary", "timezone": "UTC", "layers": [layer]})
    assert made.status_code == 201, made.text
    notifications = FakeNotifications()
    loop = _loop(app, clock, notifications)

    clock.set(datetime(2026, 3, 2, 7, 59, tzinfo=UTC))  # Monday 08:59 in Berlin: before the summary hour
    await loop.run_once()
    assert notifications.sent == []

    clock.set(datetime(2026, 3, 2, 9, 0, 30, tzinfo=UTC))  # the handoff, 10:00 in Berlin: summaries due too
    await loop.run_once()
    told = sorted((n.event, n.user_id) for n in notifications.sent)
    assert told == sorted([("shift_end", ann), ("shift_start", ben), ("shift_summary", ann), ("shift_summary", ben)])
    start = next(n for n in notifications.sent if n.event == "shift_start")
    # In Ben's own time zone, with its label.
    assert start.message == "You are on call for primary from Mon 02 Mar 10:00 CET until Tue 03 Mar 10:00 CET."
    assert start.contact_methods == [{"type": "webhook", "address": "https://hooks.example.com/Ben"}]

    # Later cycles, and a new process (a restart), find them stored: nothing twice.
    await loop.run_once()
    clock.advance(timedelta(minutes=5))
    await _loop(app, clock, notifications).run_once()
    assert len(notifications.sent) == 4
    async with app.state.db.sessionmaker() as session:
        rows = (await session.scalars(select(ShiftNotice))).all()
    assert {r.status for r in rows} == {"sent"}
    assert len(rows) == 4


async def test_a_user_without_contact_methods_is_given_up_at_once(platform):
    app, http, clock = platform
    ann = await _user(http, "Ann", contact=False)
    layer = {
        "name": "d",
        "rotation_type": "daily",
        "start_date": "2026-03-03",
        "handoff_time": "09:00",
        "members": [ann],
    }
    assert (
        await http.post("/api/v1/schedules", json={"name": "s", "timezone": "UTC", "layers": [layer]})
    ).status_code == 201
    notifications = FakeNotifications()
    clock.set(datetime(2026, 3, 3, 9, 1, tzinfo=UTC))  # a Tuesday: the first shift starts
    await _loop(app, clock, notifications).run_once()
    assert notifications.sent == []
    async with app.state.db.sessionmaker() as session:
        (row,) = (await session.scalars(select(ShiftNotice))).all()
    assert (row.kind, row.status, row.last_error) == ("shift_start", "failed", "the user has no contact method")
