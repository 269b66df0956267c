"""Every table of the shared database, one module per owning service.

Importing any model imports them all, so `Base.metadata` is always complete:
foreign keys between domains (alerts -> incidents) resolve, and Alembic
compares the whole schema.
"""

from platform_db.models.alerts import (
    Alert,
    AlertOpenOpener,
    Heartbeat,
    IncidentAction,
    Integration,
    MaintenanceWindow,
    incident_alerts,
)
from platform_db.models.base import Base
from platform_db.models.incidents import Incident, IncidentNote, LinkUse, Page, TimelineEntry
from platform_db.models.notifications import Notification, NotificationAttempt, NotificationRequest
from platform_db.models.oncall import (
    ContactMethod,
    Credential,
    EscalationLevel,
    EscalationPolicy,
    EscalationTarget,
    LayerMember,
    NotificationRule,
    Schedule,
    ScheduleLayer,
    ScheduleOverride,
    Service,
    ShiftNotice,
    Team,
    TeamMember,
    User,
)

__all__ = [
    "Alert",
    "AlertOpenOpener",
    "Base",
    "ContactMethod",
    "Credential",
    "EscalationLevel",
    "EscalationPolicy",
    "EscalationTarget",
    "Heartbeat",
    "Incident",
    "IncidentAction",
    "IncidentNote",
    "Integration",
    "LayerMember",
    "LinkUse",
    "MaintenanceWindow",
    "Notification",
    "NotificationAttempt",
    "NotificationRequest",
    "NotificationRule",
    "Page",
    "Schedule",
    "ScheduleLayer",
    "ScheduleOverride",
    "Service",
    "ShiftNotice",
    "Team",
    "TeamMember",
    "TimelineEntry",
    "User",
    "incident_alerts",
]
