"""The optimistic version guard itself, with the interleaving forced: both
responders read version 1, the first commits, the second's conditional UPDATE
matches nothing and it gets 409 with the state the first one left."""

import asyncio
import uuid
from datetime import timedelta

from sqlalchemy import text

from incident_management.domain.state import Status
from incident_management.domain.timeline import Actor
from incident_management.usecases.incidents import change_incident
from platform_common.errors import Conflict

from ..conftest import START

WAITING_ON_A_LOCK = text(
    "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'"
)


async def until_someone_waits_on_a_lock(db) -> None:
    """Return once a session of this database waits for a lock another holds."""
    async with db.sessionmaker() as probe:
        for _ in range(400):
            if await probe.scalar(WAITING_ON_A_LOCK):
                return
            await probe.rollback()  # a fresh snapshot of pg_stat_activity each time
            await asyncio.sleep(0.05)
    raise AssertionError("the second acknowledgement never waited on the first one's row lock")


async def test_the_second_of_two_interleaved_acknowledgements_loses_on_the_version(harness):
    incident_id = uuid.UUID((await harness.create())["id"])
    db = harness.app.state.db
    first_wrote = asyncio.Event()

    async def acknowledge(actor: str, *, hold: bool) -> object:
        async with db.sessionmaker() as session:
            outcome = await change_incident(
                session,
                incident_id=incident_id,
                status=Status.ACKNOWLEDGED,
                assign=False,
                assigned_to=None,
                note=None,
                actor=Actor(actor),
                expected_version=None,
                now=START + timedelta(minutes=2),
            )
            if hold:
                first_wrote.set()
                # Commit only once the other one has read version 1 and waits on our row lock.
                await until_someone_waits_on_a_lock(db)
            await session.commit()
            return outcome

    async def second() -> object:
        await first_wrote.wait()
        try:
            return await acknowledge("bob", hold=False)
        except Conflict as exc:
            return exc

    # bob's read happens while alice's UPDATE is not committed: both saw version 1.
    winner, loser = await asyncio.gather(acknowledge("alice", hold=True), second())
    assert winner.incident.version == 2
    assert isinstance(loser, Conflict)
    assert "at the same time" in loser.detail
    assert loser.extra == {"current_status": "acknowledged", "version": 2}
    acks = [e for e in (await harness.detail(str(incident_id)))["timeline"] if e["event_type"] == "acknowledged"]
    assert [a["actor"] for a in acks] == ["alice"]
