"""The one shape of every background loop: a task that runs cycles of due work.

incident-management's engine, notification-service's delivery worker and
alert-ingestion's owed incident actions all run as a `Worker`:

- a cycle claims due rows (`platform_common.queue`), works them without a
  transaction open, and records each outcome; the rows live in the database,
  so nothing a crash could lose is kept here;
- the next cycle starts when something wakes the worker (a NOTIFY, a request
  that just stored work), at once while the last cycle found a full batch (a
  backlog), else after `interval` seconds, the poll that catches a lost
  wake-up;
- a failed cycle (the database away) is logged and the loop goes on;
- `stop()` lets the cycle in flight, and the one-off tasks started with
  `spawn` (work a request handed over after its commit), finish within the
  grace period, then cancels what is left: the rows it had claimed are taken
  over by whichever worker finds their leases run out.
"""

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any

log = logging.getLogger(__name__)


class Worker:
    """Runs `cycle` until stopped; `cycle` returns True when more work is due right away."""

    def __init__(self, name: str, cycle: Callable[[], Awaitable[bool]], *, interval: float, grace: float) -> None:
        self.name = name
        self.cycle = cycle
        self.interval = interval
        self.grace = grace
        self._wake = asyncio.Event()
        self._stopping = False
        self._task: asyncio.Task[None] | None = None
        self._spawned: set[asyncio.Task[Any]] = set()

    def start(self) -> None:
        """Start the loop as a task of the running event loop."""
        self._task = asyncio.create_task(self._loop(), name=self.name)

    def wake(self, *_reason: object) -> None:
        """Run the next cycle now (work was just stored, or a NOTIFY said so)."""
        self._wake.set()

    def spawn(self, work: Coroutine[Any, Any, Any]) -> None:
        """Run one-off work beside the loop (a request's hand-over after its commit), drained by stop()."""
        task = asyncio.create_task(work)
        self._spawned.add(task)
        task.add_done_callback(self._spawned_done)

    def _spawned_done(self, task: asyncio.Task[Any]) -> None:
        self._spawned.discard(task)
        if not task.cancelled() and (error := task.exception()) is not None:
            log.error("%s: handed-over work failed", self.name, exc_info=error)

    async def stop(self) -> None:
        """Let the cycle in flight and the spawned work finish within the grace period, then cancel the rest."""
        self._stopping = True
        self._wake.set()
        pending = [task for task in (self._task, *self._spawned) if task is not None and not task.done()]
        if not pending:
            return
        _, late = await asyncio.wait(pending, timeout=self.grace)
        for task in late:
            task.cancel()
        for task in late:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        if late:
            log.warning("%s stopped with %d task(s) cut off; their leases free their rows", self.name, len(late))

    async def _loop(self) -> None:
        log.info("%s started", self.name)
        while not self._stopping:
            # Cleared before the cycle, so work stored during it wakes the next one at once.
            self._wake.clear()
            more = False
            try:
                more = await self.cycle()
            except Exception:  # one bad cycle (the database away) must not end the loop
                log.exception("%s cycle failed", self.name)
            if more:
                continue
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self.interval)
        log.info("%s stopped", self.name)
