"""The notifications' retention (workers/retention.py, migration 0022_notification_retention):
a request older than the retention goes with its notifications and attempts, unless one of
them is still being delivered or owes its caller a report; in batches, while the service
goes on taking pages."""

from datetime import UTC, datetime, timedelta

import psycopg
from sqlalchemy import select

from notification_service.main import create_app
from notification_service.metrics import NOTIFICATION_REQUESTS_DELETED
from notification_service.workers.retention import NotificationRetention
from platform_common.clock import ManualClock
from platform_db.models import Notification
from platform_testing import running_app

NOW = datetime(2026, 12, 8, 9, 0, tzinfo=UTC)


async def _page(client, an_incident, settled, target: str) -> str:
    """A delivered page over the log channel; its request's id."""
    body = {"event": "triggered", "incident": an_incident(), "targets": [{"channel": "log", "target": target}]}
    response = await client.post("/api/v1/notify", json=body)
    assert response.status_code == 202, response.text
    notification = response.json()["notifications"][0]
    assert (await settled(client, notification["id"]))["status"] == "delivered"
    async with client.db.sessionmaker() as session:
        return str(await session.scalar(select(Notification.request_id).where(Notification.id == notification["id"])))


async def test_old_requests_go_with_their_notifications_and_attempts_unless_still_needed(
    settings_for, clean_database, an_incident, settled
):
    app = create_app(settings_for(notification_retention_enabled=False))
    async with running_app(app) as client:
        client.db = app.state.db
        old = [await _page(client, an_incident, settled, f"old-{n}") for n in range(3)]
        live, owed, recent = [await _page(client, an_incident, settled, name) for name in ("live", "owed", "recent")]
        with psycopg.connect(clean_database, autocommit=True) as conn:
            aged = [*old, live, owed]
            conn.execute(
                "UPDATE notification_requests SET created_at = %s WHERE id = ANY(%s)", [NOW - timedelta(days=91), aged]
            )
            conn.execute(
                "UPDATE notification_requests SET created_at = %s WHERE id = %s", [NOW - timedelta(days=10), recent]
            )
            # Still being delivered (its next try due tomorrow), and a result report still owed to its
            # caller (tomorrow): neither is due, so the running worker leaves them as they are.
            conn.execute(
                "UPDATE notifications SET status = 'pending', delivered_at = NULL,"
                " next_attempt_at = now() + interval '1 day' WHERE request_id = %s",
                [live],
            )
            conn.execute(
                "UPDATE notifications SET callback_due_at = now() + interval '1 day' WHERE request_id = %s", [owed]
            )
            attempts_before = conn.execute("SELECT count(*) FROM notification_attempts").fetchone()[0]

        retention = NotificationRetention(app.state.db, ManualClock(NOW), days=90, batch=2, interval=3600, grace=5)
        deleted_before = NOTIFICATION_REQUESTS_DELETED._value.get()
        # Batches of two: a full one says more may be due, the last one does not.
        assert await retention.cycle() is True
        # The service goes on taking pages between batches.
        await _page(client, an_incident, settled, "meanwhile")
        assert await retention.cycle() is False
        assert await retention.cycle() is False

    assert NOTIFICATION_REQUESTS_DELETED._value.get() == deleted_before + 3
    with psycopg.connect(clean_database) as conn:
        kept = {str(row[0]) for row in conn.execute("SELECT id FROM notification_requests")}
        assert set(old).isdisjoint(kept)
        assert {live, owed, recent} <= kept
        assert len(kept) == 4
        assert conn.execute("SELECT count(*) FROM notifications").fetchone()[0] == 4
        # The three deleted requests' attempts went with them (one each, delivered at once).
        assert conn.execute("SELECT count(*) FROM notification_attempts").fetchone()[0] == attempts_before - 3 + 1
