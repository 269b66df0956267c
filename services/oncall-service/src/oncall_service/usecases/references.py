"""Checks that ids named in a request body exist, with one clear 422 naming the missing ones."""

import uuid
from collections.abc import Iterable
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from oncall_service.db import queries
from platform_common.errors import Unprocessable
from platform_db.models import EscalationPolicy, Schedule, Team, User

_LABELS: dict[type[Any], str] = {
    User: "user",
    Team: "team",
    Schedule: "schedule",
    EscalationPolicy: "escalation policy",
}


async def require_existing(session: AsyncSession, *, model: type[Any], ids: Iterable[uuid.UUID | None]) -> None:
    """Raise 422 when any of `ids` (None is skipped) names no row of `model`."""
    wanted = {i for i in ids if i is not None}
    missing = wanted - await queries.existing_ids(session, model=model, ids=wanted)
    if missing:
        label = _LABELS[model]
        raise Unprocessable(
            f"unknown {label}{'s' if len(missing) > 1 else ''}: {', '.join(sorted(map(str, missing)))}",
            missing_ids=sorted(map(str, missing)),
        )
