"""PostgreSQL LISTEN: wake a worker the moment something it waits for is committed.

A notification is a hint, not a message: one sent while the connection is
being re-made is lost, so every worker that listens also polls as a safety net
(and is woken once after each (re)connection to catch up).
"""

import asyncio
import logging
from collections.abc import Callable

import asyncpg
from sqlalchemy.engine import make_url

log = logging.getLogger(__name__)


class Listener:
    """Calls `wake(payload)` for each NOTIFY on `channel`, reconnecting when the connection is lost."""

    def __init__(self, database_url: str, channel: str, wake: Callable[[str], None], *, retry_seconds: float = 1.0):
        self.dsn = make_url(database_url).set(drivername="postgresql").render_as_string(hide_password=False)
        self.channel = channel
        self.wake = wake
        self.retry_seconds = retry_seconds

    async def run(self) -> None:
        """Listen until cancelled."""
        while True:
            try:
                await self._listen_until_lost()
            except asyncio.CancelledError:
                raise
            except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
                log.warning("cannot LISTEN; polling only", extra={"channel": self.channel, "error": str(exc)})
            await asyncio.sleep(self.retry_seconds)

    async def _listen_until_lost(self) -> None:
        connection = await asyncpg.connect(self.dsn)
        try:
            lost = asyncio.Event()
            connection.add_termination_listener(lambda _conn: lost.set())
            await connection.add_listener(self.channel, lambda _conn, _pid, _channel, payload: self.wake(payload))
            self.wake("")  # whatever was notified while nobody listened
            await lost.wait()
            log.warning("lost the LISTEN connection", extra={"channel": self.channel})
        finally:
            if not connection.is_closed():
                await connection.close()
