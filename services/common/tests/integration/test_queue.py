"""platform_common.queue on PostgreSQL: SKIP LOCKED batches, leases, a dead worker's rows freed, guarded finish."""

import asyncio
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import DateTime, text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncSession, create_async_engine
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from platform_common import queue

NOW = datetime(2026, 12, 1, 6, 0, tzinfo=UTC)
LEASE = timedelta(seconds=60)


class Base(DeclarativeBase):
    pass


class Item(Base):
    """A queue of the platform's shape: the row is the record, `next_attempt_at` its lease."""

    __tablename__ = "queue_test_items"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    position: Mapped[int]
    status: Mapped[str]
    next_attempt_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    owner: Mapped[str | None]


@pytest.fixture
async def engine(clean_database):
    url = make_url(clean_database).set(drivername="postgresql+asyncpg")
    engine = create_async_engine(url)
    async with engine.begin() as conn:
        await conn.run_sync(Base.metadata.drop_all)
        await conn.run_sync(Base.metadata.create_all)
        await conn.execute(
            text(
                "INSERT INTO queue_test_items"
                " SELECT gen_random_uuid(), n, 'pending', :now, NULL FROM generate_series(1, 10) n"
            ),
            {"now": NOW - timedelta(seconds=1)},
        )
    yield engine
    async with engine.begin() as conn:
        await conn.run_sync(Base.metadata.drop_all)
    await engine.dispose()


async def claim(session, *, now=NOW, limit=10, owner=None):
    return await queue.claim(
        session,
        Item,
        due=Item.status == "pending",
        order_by=[Item.position],
        lease=Item.next_attempt_at,
        now=now,
        lease_until=now + LEASE,
        limit=limit,
        values={"owner": owner} if owner else None,
    )


async def test_two_workers_take_disjoint_batches_without_waiting(engine):
    async with (
        AsyncSession(engine, expire_on_commit=False) as first,
        AsyncSession(engine, expire_on_commit=False) as second,
        first.begin(),
    ):
        mine = await claim(first, limit=4, owner="first")
        # The first transaction still holds its row locks: the second skips them instead of waiting.
        async with second.begin():
            theirs = await asyncio.wait_for(claim(second, owner="second"), 5)
    assert [item.position for item in mine] == [1, 2, 3, 4]
    assert [item.position for item in theirs] == [5, 6, 7, 8, 9, 10]
    assert {item.owner for item in mine} == {"first"}
    assert all(item.next_attempt_at == NOW + LEASE for item in mine + theirs)


async def test_a_lease_keeps_the_claim_after_commit_and_frees_a_dead_workers_rows(engine):
    async with AsyncSession(engine, expire_on_commit=False) as session, session.begin():
        claimed = await claim(session, limit=3, owner="dies")
    assert [item.position for item in claimed] == [1, 2, 3]
    async with AsyncSession(engine, expire_on_commit=False) as session, session.begin():
        # No lock held any more, but the lease is: the next claimer gets the other seven.
        assert [item.position for item in await claim(session)] == [4, 5, 6, 7, 8, 9, 10]
    async with AsyncSession(engine, expire_on_commit=False) as session, session.begin():
        assert await claim(session) == []
        # The first worker died: once its lease runs out, its rows are due again.
        later = NOW + LEASE + timedelta(seconds=1)
        taken_over = await claim(session, now=later, limit=5, owner="successor")
    assert [item.position for item in taken_over] == [1, 2, 3, 4, 5]


async def test_finish_writes_only_while_the_claim_is_still_ours(engine):
    async with AsyncSession(engine, expire_on_commit=False) as session, session.begin():
        (item,) = await claim(session, limit=1, owner="late")
        later = NOW + LEASE + timedelta(seconds=1)
        (again,) = await claim(session, now=later, limit=1, owner="successor")
        assert again.id == item.id
        late = await queue.finish(
            session, Item, key=item.id, values={"status": "done"}, still_ours=Item.owner == "late"
        )
        current = await queue.finish(
            session, Item, key=item.id, values={"status": "done"}, still_ours=[Item.owner == "successor"]
        )
        assert (late, current) == (False, True)
        assert await queue.finish(session, Item, key=uuid.uuid4(), values={"status": "done"}) is False
        status = await session.scalar(text("SELECT status FROM queue_test_items WHERE id = :id"), {"id": item.id})
    assert status == "done"


async def test_claimed_rows_in_a_session_are_fresh_objects(engine):
    async with AsyncSession(engine) as session, session.begin():
        before = await session.get(Item, (await claim(session, limit=1))[0].id)
        assert before.next_attempt_at == NOW + LEASE
        (again,) = await claim(session, now=NOW + 2 * LEASE, limit=1)
        assert again is before and again.next_attempt_at == NOW + 3 * LEASE
