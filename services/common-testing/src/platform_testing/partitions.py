"""The monthly partitions of the timeline and the alerts (migrations 0018_retention,
0019_alert_partitions, 0020_alert_retention) as tests look at and retire them."""

from datetime import datetime

import psycopg


def partitions_of(conn: psycopg.Connection, parent: str) -> set[str]:
    """The names of `parent`'s partitions (the monthly ones and the default)."""
    rows = conn.execute(
        "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid WHERE i.inhparent = %s::regclass",
        [parent],
    ).fetchall()
    return {name for (name,) in rows}


def retire(conn: psycopg.Connection, parent: str, cutoff: datetime) -> list[str]:
    """What a retention worker does through `parent`'s two functions (platform_common.partitions):
    empty the expired months, then drop them; returns the names dropped."""
    while conn.execute(f"SELECT {parent}_empty_partition(%s)", [cutoff]).fetchone()[0] is not None:
        pass
    dropped = []
    while (name := conn.execute(f"SELECT {parent}_drop_partition(%s)", [cutoff]).fetchone()[0]) is not None:
        dropped.append(name)
    return dropped
