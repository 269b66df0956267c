"""Who did something to an incident, as the timeline and notes record it."""

import uuid
from dataclasses import dataclass


@dataclass(frozen=True)
class Actor:
    """A name to show, and the id of the user or integration behind it (None:
    the platform itself, such as the engine assigning or escalating)."""

    name: str
    id: uuid.UUID | None = None


ENGINE = Actor("incident-management")
NOTIFICATIONS = Actor("notification-service")
