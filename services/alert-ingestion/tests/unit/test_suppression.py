"""Each process's copy of the maintenance windows: read once per `ttl`, again at once after a local
change, and a window's end counts without a read."""

import uuid
from datetime import UTC, datetime, timedelta

from alert_ingestion.usecases.suppression import ActiveWindows

NOW = datetime(2026, 12, 7, 10, 0, tzinfo=UTC)


def window(service: str) -> dict:
    """A row of the windows query: `service` silenced for the next half hour."""
    ends = NOW + timedelta(minutes=30)
    return {"id": uuid.uuid4(), "description": "", "services": [service], "starts_at": NOW, "ends_at": ends}


class FakePool:
    """Answers the windows query with the rows it holds, counting the reads."""

    def __init__(self) -> None:
        self.rows: list[dict] = []
        self.reads = 0

    async def fetch(self, _sql: str, now: datetime) -> list[dict]:
        self.reads += 1
        return [row for row in self.rows if row["ends_at"] > now]


async def test_the_windows_are_read_once_per_ttl_and_again_after_a_local_change():
    pool = FakePool()
    pool.rows.append(window("checkout"))
    windows = ActiveWindows(pool, ttl=60)  # type: ignore[arg-type]
    assert await windows.silencing("checkout", NOW) is not None
    assert await windows.silencing("search", NOW) is None
    assert pool.reads == 1, "one read for both alerts"

    pool.rows.append(window("search"))
    assert await windows.silencing("search", NOW) is None, "another process's window counts after the ttl"
    windows.forget()
    assert await windows.silencing("search", NOW) is not None, "this process's change counts at once"
    assert pool.reads == 2

    assert await windows.silencing("checkout", NOW + timedelta(minutes=30)) is None, "its end counts without a read"
    assert pool.reads == 2


async def test_a_ttl_of_zero_reads_for_every_alert():
    pool = FakePool()
    windows = ActiveWindows(pool, ttl=0)  # type: ignore[arg-type]
    for _ in range(3):
        await windows.silencing("checkout", NOW)
    assert pool.reads == 3
