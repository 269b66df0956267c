"""Escalation chains: which people each level of a policy pages at a given moment."""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

USER = "user"
SCHEDULE = "schedule"


@dataclass(frozen=True)
class Target:
    """A target of an escalation level: a user, or a schedule (whoever is on call in it)."""

    type: str  # USER or SCHEDULE
    id: str


def level_users(targets: Sequence[Target], on_call: Mapping[str, str | None]) -> list[str]:
    """The users a level pages, in target order, each once. A schedule target pages
    whoever `on_call` says holds that schedule now; a schedule nobody covers adds nobody."""
    users: list[str] = []
    for target in targets:
        user_id = target.id if target.type == USER else on_call.get(target.id)
        if user_id is not None and user_id not in users:
            users.append(user_id)
    return users


def primary(levels_users: Sequence[Sequence[str]]) -> str | None:
    """The person to assign: the first user of the first level. When that level
    resolves to nobody (its schedule has a gap), the first level that pages
    someone, so an incident is not left unassigned while a later level would page."""
    return next((users[0] for users in levels_users if users), None)


@dataclass(frozen=True)
class Paged:
    """Who an incident pages at a moment: each level's users, and the person to assign."""

    levels: list[list[str]]
    primary: str | None


def paged(
    levels: Sequence[Sequence[Target]] | None, team_schedules: Sequence[str], on_call: Mapping[str, str | None]
) -> Paged:
    """With a policy (its levels' targets, in order): each level's users and the primary.
    Without one (None): no levels, and the primary is whoever the first of the team's
    schedules (in the order given) with someone on call has, so such an incident is
    still assigned."""
    if levels is None:
        return Paged([], next((user for s in team_schedules if (user := on_call.get(s)) is not None), None))
    users = [level_users(targets, on_call) for targets in levels]
    return Paged(users, primary(users))
