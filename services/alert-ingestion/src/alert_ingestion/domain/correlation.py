"""Correlation rules that do not need the database."""

from datetime import datetime, timedelta


def correlation_cutoff(now: datetime, window_minutes: float) -> datetime | None:
    """Open incidents created at or after this moment can absorb a new alert
    of the same service and severity; None when the window is 0: correlation
    is off, even for alerts that arrive in the same instant."""
    if window_minutes <= 0:
        return None
    return now - timedelta(minutes=window_minutes)


def incident_title(*, service: str, message: str, limit: int = 500) -> str:
    """The title of an incident opened by an alert: the alert's message, cut to fit."""
    title = " ".join(message.split()) or f"Alert on {service}"
    return title if len(title) <= limit else title[: limit - 1] + "…"
