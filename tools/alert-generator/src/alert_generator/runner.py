"""The loop: sends the planner's events at the configured rate, counting what the platform answered.

Pacing is a budget: each tick adds `rate x elapsed` events and sends whole ones, so
the average rate is the one asked for; a burst spends ahead and the next ticks wait
it off. Sends run concurrently (bounded), so a slow answer does not slow the rate."""

import asyncio
import contextlib
import logging
import random
import time
from collections import Counter
from datetime import UTC, datetime

import httpx

from alert_generator.mix import Event, Mix, Planner

log = logging.getLogger(__name__)

TICK_SECONDS = 0.05
MAX_IN_FLIGHT = 64


class Generator:
    """Sends to `{target}/v2/enqueue` with each service's integration key (`keys`)."""

    def __init__(
        self,
        *,
        target: str,
        keys: dict[str, str],
        mix: Mix,
        events_per_second: float,
        seed: int | None = None,
    ) -> None:
        self.target = target.rstrip("/")
        self.keys = keys
        self.planner = Planner(mix, random.Random(seed))
        self.events_per_second = events_per_second
        self.sent: Counter[str] = Counter()  # "<action> <status code>" or "<action> error"
        self.started_at: float | None = None
        self._task: asyncio.Task[None] | None = None
        self._in_flight: set[asyncio.Task[None]] = set()
        self._client = httpx.AsyncClient(timeout=10, limits=httpx.Limits(max_connections=MAX_IN_FLIGHT))

    @property
    def mix(self) -> Mix:
        """The mix in force."""
        return self.planner.mix

    def set_mix(self, mix: Mix) -> None:
        """Change the mix (the caller has checked every service has a key)."""
        self.planner.mix = mix

    @property
    def running(self) -> bool:
        """Whether events are being sent."""
        return self._task is not None and not self._task.done()

    def start(self) -> None:
        """Start sending (no-op while running)."""
        if not self.running:
            self.started_at = time.monotonic()
            self._task = asyncio.create_task(self._loop(), name="alert-generator")

    async def stop(self) -> None:
        """Stop sending; sends under way finish."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        if self._in_flight:
            await asyncio.gather(*self._in_flight, return_exceptions=True)

    async def aclose(self) -> None:
        """Stop and release the HTTP client."""
        await self.stop()
        await self._client.aclose()

    async def _loop(self) -> None:
        budget = 0.0
        last = time.monotonic()
        while True:
            await asyncio.sleep(TICK_SECONDS)
            now = time.monotonic()
            # At most a second's worth after a stall, so a pause is not followed by a flood.
            budget = min(budget + self.events_per_second * (now - last), max(self.events_per_second, 1.0))
            last = now
            while budget >= 1 and len(self._in_flight) < MAX_IN_FLIGHT:
                events = self.planner.next_events(datetime.now(UTC))
                budget -= len(events)
                for event in events:
                    task = asyncio.create_task(self._send(event))
                    self._in_flight.add(task)
                    task.add_done_callback(self._in_flight.discard)

    async def _send(self, event: Event) -> None:
        try:
            response = await self._client.post(f"{self.target}/v2/enqueue", json=event.body(self.keys[event.service]))
            outcome = str(response.status_code)
        except httpx.HTTPError as exc:
            log.warning("send failed: %s", type(exc).__name__)
            outcome = "error"
        self.sent[f"{event.action} {outcome}"] += 1
