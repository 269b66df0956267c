"""How an incident opened by an alert is named (the grouping rule itself is SQL: ingest_alerts())."""


def incident_title(*, service: str, message: str, limit: int = 500) -> str:
    """The title of an incident opened by an alert: the alert's message, cut to fit."""
    title = " ".join(message.split()) or f"Alert on {service}"
    return title if len(title) <= limit else title[: limit - 1] + "…"
