"""Retiring a table's monthly partitions after its retention: the timeline's
(incident-management, migration 0018_retention) and the alerts' (alert-ingestion,
0020_alert_retention). Each table has two database functions that decide which
months may go (the rule lives there, in SQL): one empties the oldest expired month
that still holds rows (its files freed under that month's own lock), the other drops
the oldest emptied one (the parent's lock held for a catalog change only). Both are
called one month per transaction until neither finds anything left."""

import logging
from datetime import datetime, timedelta

from sqlalchemy import TextClause

from platform_common.db import Database

log = logging.getLogger(__name__)


def retention_cutoff(now: datetime, days: int) -> datetime:
    """Rows older than this may go, with their month's partition."""
    return now - timedelta(days=days)


async def retire_months(db: Database, *, empty: TextClause, drop: TextClause, cutoff: datetime) -> list[str]:
    """Empty, then drop, every month `empty`/`drop` (each taking `:cutoff`) find expired; returns those dropped."""
    while True:
        async with db.sessionmaker() as session, session.begin():
            emptied = (await session.execute(empty, {"cutoff": cutoff})).scalar_one()
        if emptied is None:
            break
        log.info("partition emptied", extra={"partition": emptied})
    dropped: list[str] = []
    while True:
        async with db.sessionmaker() as session, session.begin():
            name = (await session.execute(drop, {"cutoff": cutoff})).scalar_one()
        if name is None:
            return dropped
        dropped.append(name)
        log.info("partition dropped", extra={"partition": name})
