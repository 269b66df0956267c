"""Correlation rules that do not need the database."""

from datetime import datetime, timedelta


def correlation_cutoff(now: datetime, window_minutes: float) -> datetime:
    """Open incidents created at or after this moment can absorb a new alert
    of the same service and severity."""
    return now - timedelta(minutes=window_minutes)


def incident_title(*, service: str, message: str, limit: int = 500) -> str:
    """The title of an incident opened by an alert: the alert's message, cut to fit."""
    title = " ".join(message.split()) or f"Alert on {service}"
    return title if len(title) <= limit else title[: limit - 1] + "…"
