"""A user's notification rules: read and replace."""

import uuid
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from oncall_service.schemas.rules import NotificationRulesIn
from oncall_service.usecases.rows import get_or_404
from platform_common.errors import Unprocessable
from platform_db.enums import URGENCIES
from platform_db.models import NotificationRule, User


@dataclass(frozen=True)
class Rules:
    """A user's steps, per urgency, in order."""

    user_id: uuid.UUID
    high: list[NotificationRule]
    low: list[NotificationRule]


def rules_of(user: User) -> Rules:
    """The user's rules as the API answers them."""
    by_urgency = {urgency: [r for r in user.notification_rules if r.urgency == urgency] for urgency in URGENCIES}
    return Rules(user.id, sorted(by_urgency["high"], key=_position), sorted(by_urgency["low"], key=_position))


def _position(rule: NotificationRule) -> int:
    return rule.position


async def get_rules(session: AsyncSession, *, user_id: uuid.UUID) -> Rules:
    """A user's rules; 404 for an unknown user."""
    return rules_of(await get_or_404(session, model=User, id=user_id))


async def replace_rules(session: AsyncSession, *, user_id: uuid.UUID, rules_in: NotificationRulesIn) -> Rules:
    """Replace every step of the user's rules; each step must name one of their own contact methods."""
    user = await get_or_404(session, model=User, id=user_id)
    methods = {m.id: m for m in user.contact_methods}
    steps = {"high": rules_in.high, "low": rules_in.low}
    for urgency, given in steps.items():
        for step in given:
            if step.contact_method_id not in methods:
                raise Unprocessable(
                    f"{urgency}-urgency step: contact method {step.contact_method_id} is not one of this user's"
                )
    # Deleted first and flushed: the new steps reuse the (user, urgency, position) keys.
    user.notification_rules.clear()
    await session.flush()
    user.notification_rules.extend(
        NotificationRule(
            id=uuid.uuid4(),
            urgency=urgency,
            position=position,
            delay_minutes=step.delay_minutes,
            contact_method_id=step.contact_method_id,
            contact_method=methods[step.contact_method_id],
        )
        for urgency, given in steps.items()
        for position, step in enumerate(given)
    )
    await session.flush()
    return rules_of(user)
