"""Turning a notify request into deliveries: the user's contact methods, their
mutes, and the caller's explicit targets."""

from collections.abc import Iterable
from dataclasses import dataclass

# How oncall-service contact method types map to our channels; sms and phone
# are kept there as data only, nothing here can deliver them.
METHOD_CHANNELS = {"email": "email", "slack": "slack", "webhook": "webhook"}


@dataclass(frozen=True)
class ContactMethod:
    """One way to reach a user: channel type and address."""

    type: str
    address: str


@dataclass(frozen=True)
class UserProfile:
    """What paging needs to know of a user: contact methods and mutes."""

    id: str
    name: str
    contact_methods: tuple[ContactMethod, ...] = ()
    muted_channels: frozenset[str] = frozenset()
    muted_severities: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Target:
    """An address a request names itself: a channel and a target."""

    channel: str
    target: str


@dataclass(frozen=True)
class PlannedDelivery:
    """One notification to store: pending, or suppressed with the reason why."""

    recipient: str
    channel: str | None
    target: str | None
    suppressed_reason: str | None = None

    @property
    def status(self) -> str:
        """ "suppressed" when there is a reason not to send, else "pending"."""
        return "suppressed" if self.suppressed_reason else "pending"


def plan_deliveries(*, user: UserProfile | None, targets: Iterable[Target], severity: str) -> list[PlannedDelivery]:
    """Every delivery a request asks for, each (channel, target) once.

    Explicit targets are the caller's routing (a team channel, an audit hook)
    and are always sent; the user's own methods honour the user's mutes. A
    muted method is kept as a suppressed row so history shows why nobody was
    paged there; if nothing at all is left, one suppressed row says why.
    """
    planned: list[PlannedDelivery] = []
    seen: set[tuple[str, str]] = set()

    def add(delivery: PlannedDelivery) -> None:
        key = (delivery.channel or "", delivery.target or "")
        if key not in seen:
            seen.add(key)
            planned.append(delivery)

    for explicit in targets:
        add(PlannedDelivery(user.id if user else explicit.target, explicit.channel, explicit.target))
    if user is not None:
        for method in user.contact_methods:
            channel = METHOD_CHANNELS.get(method.type)
            if channel is None:
                continue
            reason = None
            if severity in user.muted_severities:
                reason = f"severity '{severity}' is muted by the user"
            elif channel in user.muted_channels:
                reason = f"channel '{channel}' is muted by the user"
            add(PlannedDelivery(user.id, channel, method.address, reason))
    if not planned:
        recipient = user.id if user else "nobody"
        reason = (
            f"user {user.name or user.id} has no contact method this service delivers to (email, slack, webhook)"
            if user
            else "no targets"
        )
        planned.append(PlannedDelivery(recipient, None, None, reason))
    return planned
