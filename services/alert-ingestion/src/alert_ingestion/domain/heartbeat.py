"""Heartbeat monitors (a dead-man's switch): when one is late, and what its alert says. Pure."""

from datetime import datetime, timedelta

from alert_ingestion.domain.alert import IncomingAlert


def next_due(pinged_at: datetime, interval_seconds: int) -> datetime:
    """When a heartbeat pinged (or made) at `pinged_at` is late unless pinged again."""
    return pinged_at + timedelta(seconds=interval_seconds)


def dedup_key(heartbeat_id: str) -> str:
    """One key per heartbeat: its misses are one alert, which its next ping resolves."""
    return f"heartbeat:{heartbeat_id}"


def missed(*, heartbeat_id: str, name: str, service: str, since: datetime, interval_seconds: int) -> IncomingAlert:
    """The alert a late heartbeat raises, through the ordinary alert path (critical: a monitor went quiet)."""
    return IncomingAlert(
        format="generic",
        action="trigger",
        service=service,
        severity="critical",
        message=f"heartbeat {name} missed since {since:%H:%M} UTC",
        source="heartbeat",
        dedup_key=dedup_key(heartbeat_id),
        labels={"heartbeat": name, "interval_seconds": interval_seconds},
    )


def back(*, heartbeat_id: str, name: str, service: str) -> IncomingAlert:
    """The resolve a late heartbeat's next ping sends."""
    return IncomingAlert(
        format="generic",
        action="resolve",
        service=service,
        severity="critical",
        message=f"heartbeat {name} is back",
        source="heartbeat",
        dedup_key=dedup_key(heartbeat_id),
    )
