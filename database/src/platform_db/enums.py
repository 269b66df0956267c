"""The values each enumerated column accepts, written once.

The migrations and the models build their CHECK constraints from these
tuples; the services' API schemas and domain types use the Literal types (or
the enums, where code names the members). Each tuple is read off its Literal
(`typing.get_args`) or enum, so what a type checker or Pydantic accepts and
what the database accepts are one list.

Plain Python on purpose: domain modules import it and must not import a
database library.

Changing a list changes the schema, and the migrations import these lists:
the migration that used the old list must get it spelled out (as 0004 spells
out the incident actions 0006 extended), and a new migration replaces the
CHECK constraint (and spells the old list out in its downgrade). Otherwise an
existing database keeps the old list while a new one gets the new list, and
the compare test in database/tests, which only sees a database migrated from
scratch, cannot tell.
"""

from enum import StrEnum
from typing import Literal, get_args

from platform_common.roles import ROLES, Role  # noqa: F401 - re-exported, see below


def in_check(column: str, values: tuple[str, ...]) -> str:
    """The SQL of a CHECK constraint that admits only `values` in `column`."""
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


# Most urgent first: the order incident lists sort by and stats report in.
Severity = Literal["critical", "high", "medium", "low", "info"]
SEVERITIES: tuple[Severity, ...] = get_args(Severity)

# On-call (migration 0001).
ContactType = Literal["email", "slack", "webhook", "sms", "phone"]
CONTACT_TYPES: tuple[ContactType, ...] = get_args(ContactType)
TeamRole = Literal["member", "manager"]
# Notification rules (migration 0012): which list of steps pages a user.
Urgency = Literal["high", "low"]
URGENCIES: tuple[Urgency, ...] = get_args(Urgency)
# "You are on call" notices oncall-service sends (migration 0012).
ShiftNoticeKind = Literal["shift_start", "shift_end", "shift_summary"]
SHIFT_NOTICE_KINDS: tuple[ShiftNoticeKind, ...] = get_args(ShiftNoticeKind)
ShiftNoticeStatus = Literal["pending", "sent", "failed"]
SHIFT_NOTICE_STATUSES: tuple[ShiftNoticeStatus, ...] = get_args(ShiftNoticeStatus)
TEAM_ROLES: tuple[TeamRole, ...] = get_args(TeamRole)


# Who may do what (migration 0008): users.role takes one of ROLES, written
# once in platform_common.roles (the auth checks read it there) and re-exported here.
# A session is the UI's cookie, a token a script's Bearer.
CredentialKind = Literal["session", "token"]
CREDENTIAL_KINDS: tuple[CredentialKind, ...] = get_args(CredentialKind)
# What a signed link in a page may do.
LinkAction = Literal["acknowledge", "resolve"]
LINK_ACTIONS: tuple[LinkAction, ...] = get_args(LinkAction)


# An enum, not a Literal: the rotation arithmetic in oncall_service.domain.rotation names its members.
class RotationType(StrEnum):
    HOURLY = "hourly"
    DAILY = "daily"
    WEEKLY = "weekly"


ROTATION_TYPES: tuple[str, ...] = tuple(rotation.value for rotation in RotationType)
# Which of user_id / schedule_id an escalation target sets (ck_targets_one_target).
TargetType = Literal["user", "schedule"]
TARGET_TYPES: tuple[TargetType, ...] = get_args(TargetType)


# Incidents (migration 0002). An enum, not a Literal: the state machine in
# incident_management.domain.state names its members.
class IncidentStatus(StrEnum):
    OPEN = "open"
    ACKNOWLEDGED = "acknowledged"
    IN_PROGRESS = "in_progress"
    RESOLVED = "resolved"


INCIDENT_STATUSES: tuple[str, ...] = tuple(status.value for status in IncidentStatus)
# Opened through the API, or by ingestion's fallback while incident-management was down.
IncidentOrigin = Literal["api", "ingestion_fallback"]
INCIDENT_ORIGINS: tuple[IncidentOrigin, ...] = get_args(IncidentOrigin)
# pending: not yet accepted by notification-service (kept and retried while it is down);
# sent: accepted; failed: refused for good (4xx); cancelled: the incident was
# acknowledged or resolved before the page could go out, so it must not go out.
PageStatus = Literal["pending", "sent", "failed", "cancelled"]
PAGE_STATUSES: tuple[PageStatus, ...] = get_args(PageStatus)

# Notifications (migration 0003).
# (migration 0012 added the notices: `reassigned` concerns an incident, the rest none;
# 0016 `alert_joined`: a new alert joined an incident someone already acknowledged.)
NotificationEvent = Literal[
    "triggered",
    "escalated",
    "acknowledged",
    "resolved",
    "reassigned",
    "test",
    "shift_start",
    "shift_end",
    "shift_summary",
    "alert_joined",
]
NOTIFICATION_EVENTS: tuple[NotificationEvent, ...] = get_args(NotificationEvent)
Channel = Literal["webhook", "slack", "email", "log"]
CHANNELS: tuple[Channel, ...] = get_args(Channel)
NotificationStatus = Literal["pending", "sending", "delivered", "failed", "suppressed"]
NOTIFICATION_STATUSES: tuple[NotificationStatus, ...] = get_args(NotificationStatus)
# `abandoned`: the worker holding the row died (or stalled past its lease) mid-attempt.
AttemptResult = Literal["success", "retryable_error", "permanent_error", "abandoned"]
ATTEMPT_RESULTS: tuple[AttemptResult, ...] = get_args(AttemptResult)

# Alerts (migration 0004). The formats alerts arrive in are also the types of integration.
AlertFormat = Literal["generic", "pagerduty", "alertmanager", "grafana"]
ALERT_FORMATS: tuple[AlertFormat, ...] = get_args(AlertFormat)
AlertStatus = Literal["triggered", "acknowledged", "resolved"]
ALERT_STATUSES: tuple[AlertStatus, ...] = get_args(AlertStatus)
# What ingestion did with an alert; `suppressed`: it arrived inside a maintenance window of its service.
AlertAction = Literal["created", "correlated", "deduplicated", "suppressed"]
ALERT_ACTIONS: tuple[AlertAction, ...] = get_args(AlertAction)
# The incident changes ingestion owes incident-management, and their progress.
# alert_joined (migration 0013): an alert joined an incident already acknowledged; its assignee is told.
IncidentActionType = Literal["create", "acknowledge", "resolve", "alert_joined"]
INCIDENT_ACTIONS: tuple[IncidentActionType, ...] = get_args(IncidentActionType)
ActionStatus = Literal["pending", "done", "failed"]
ACTION_STATUSES: tuple[ActionStatus, ...] = get_args(ActionStatus)
