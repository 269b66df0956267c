"""The roles of the platform's users, plain Python: platform_db's CHECK
constraint (users.role) and platform_common.auth's checks read this one list."""

from enum import StrEnum


class Role(StrEnum):
    """Each role may do everything the one before it may."""

    VIEWER = "viewer"  # reads everything except secrets
    RESPONDER = "responder"  # acts on incidents, makes their own overrides
    ADMIN = "admin"  # sets the platform up: users, teams, schedules, policies, services, keys


ROLES: tuple[str, ...] = tuple(role.value for role in Role)
