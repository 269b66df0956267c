"""Live updates: one watcher per process tells every open change stream
(`GET /api/v1/incidents/changes`) that incidents changed.

Every change to an incident writes a timeline entry (the API, the engine, a
merge, ingestion's fallback through open_incident()), so the timeline's tail is
the one source. One query a cycle reads it, however many streams are open, and
none runs while no stream is open. Each change is fanned out in memory to every
stream; a slow stream only gathers ids, it never queues events.

Timeline ids come from one sequence but are committed out of order: an entry
taken before another may commit after it. So each cycle reads the last
LOOKBACK ids again and reports those it had not seen, rather than only ids
above the highest seen. An entry committed later than LOOKBACK newer entries
is reported late or not at all, but a burst that large sends its own events
and each reload reads every committed row.
"""

import asyncio
import contextlib
import logging
from collections.abc import Iterator
from dataclasses import dataclass, field

from sqlalchemy import text

from incident_management.metrics import CHANGE_STREAMS
from platform_common.db import Database
from platform_common.worker import Worker

log = logging.getLogger(__name__)

# Ids read again each cycle (an index range scan of the timeline's primary key).
LOOKBACK = 200
# Rows read in one cycle; a larger burst is read by the next cycle, at once.
BATCH = 2000
# A stream gathers at most this many ids before it says only "something changed".
MAX_IDS = 100

TAIL = text(
    "SELECT id, incident_id::text AS incident_id FROM incident_timeline WHERE id > :after ORDER BY id LIMIT :limit"
)
NEWEST = text("SELECT coalesce(max(id), 0) FROM incident_timeline")


@dataclass
class Tail:
    """The ids seen among the timeline's last LOOKBACK, and the highest."""

    high: int
    seen: set[int] = field(default_factory=set)

    @property
    def after(self) -> int:
        """Rows above this id are read each cycle."""
        return max(0, self.high - LOOKBACK)

    def advance(self, rows: list[tuple[int, str]]) -> set[str]:
        """The incidents of the rows not seen before; forgets ids that fell out of the lookback."""
        changed = {incident_id for entry_id, incident_id in rows if entry_id not in self.seen}
        self.seen.update(entry_id for entry_id, _ in rows)
        self.high = max([self.high, *(entry_id for entry_id, _ in rows)])
        self.seen = {entry_id for entry_id in self.seen if entry_id > self.after}
        return changed


class Subscription:
    """One open stream: the changes gathered since it last sent an event."""

    def __init__(self) -> None:
        self._ids: set[str] = set()
        self._many = False
        self._version = ""
        self._ready = asyncio.Event()

    def add(self, incident_ids: set[str], version: str) -> None:
        """Gather a cycle's changes until the stream sends them."""
        if not self._many:
            self._ids |= incident_ids
            if len(self._ids) > MAX_IDS:
                self._ids, self._many = set(), True
        self._version = version
        self._ready.set()

    def wake(self) -> None:
        """End the wait of `next` with nothing gathered (the feed closing)."""
        self._ready.set()

    async def next(self, within: float) -> tuple[str, list[str] | None] | None:
        """The version and changed incidents (None: too many to list) gathered so far,
        waiting up to `within` seconds; None when nothing changed by then (or the feed closed)."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._ready.wait(), within)
        self._ready.clear()
        if not self._version:
            return None
        change = (self._version, None if self._many else sorted(self._ids))
        self._ids, self._many, self._version = set(), False, ""
        return change


class StreamsFull(Exception):
    """This process holds as many change streams as it may."""


class ChangeFeed:
    """The watcher and its subscriptions, one per process."""

    def __init__(self, db: Database, *, interval: float, max_streams: int, grace: float) -> None:
        self.db = db
        self.max_streams = max_streams
        self.closed = asyncio.Event()
        self._subscriptions: set[Subscription] = set()
        self._tail: Tail | None = None
        self._seeded = asyncio.Event()
        self.worker = Worker("incident-changes", self.cycle, interval=interval, grace=grace)

    def admit(self) -> None:
        """StreamsFull when this process holds as many streams as it may (checked before answering)."""
        if len(self._subscriptions) >= self.max_streams:
            raise StreamsFull

    @contextlib.contextmanager
    def subscribe(self) -> Iterator[Subscription]:
        """A subscription for one stream, dropped when the stream ends; StreamsFull at the cap
        (streams admitted at the same moment may find it reached by the time they start)."""
        self.admit()
        if self._tail is None:
            self.worker.wake()  # the first stream: learn the tail now (`watching`)
        subscription = Subscription()
        self._subscriptions.add(subscription)
        CHANGE_STREAMS.inc()
        try:
            yield subscription
        finally:
            self._subscriptions.discard(subscription)
            CHANGE_STREAMS.dec()

    async def cycle(self) -> bool:
        """Read the timeline's tail and hand what is new to every subscription; True if a backlog is left."""
        if not self._subscriptions:
            # Nobody watches: no query, and the next watcher starts from the newest entry.
            self._tail = None
            self._seeded.clear()
            return False
        first = self._tail is None
        async with self.db.sessionmaker() as session:
            if self._tail is None:
                self._tail = Tail(high=(await session.execute(NEWEST)).scalar_one())
            rows = (await session.execute(TAIL, {"after": self._tail.after, "limit": BATCH})).all()
        changed = self._tail.advance([(row.id, row.incident_id) for row in rows])
        self._seeded.set()
        # The first read only learns the lookback's ids: they changed before anyone watched.
        if changed and not first:
            version = str(self._tail.high)
            for subscription in self._subscriptions:
                subscription.add(changed, version)
        return len(rows) == BATCH

    async def watching(self, within: float) -> None:
        """Return once the watcher knows the tail (at most `within` seconds): a change
        committed after that reaches every stream subscribed before it."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._seeded.wait(), within)

    def start(self) -> None:
        """Start the watcher (a task of the running event loop)."""
        self.worker.start()

    def close(self) -> None:
        """End every stream (shutdown): they must not hold the server's graceful drain."""
        self.closed.set()
        for subscription in self._subscriptions:
            subscription.wake()

    async def stop(self) -> None:
        """End the streams and the watcher."""
        self.close()
        await self.worker.stop()
