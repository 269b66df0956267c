"""Signed page links: what one would do, and doing it (once)."""

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from incident_management.config import Settings
from incident_management.db import queries
from incident_management.domain.links import LinkClaim, LinkInvalid, LinkSigner
from incident_management.domain.state import Status
from incident_management.domain.timeline import Actor
from incident_management.usecases import incidents
from platform_common.errors import Conflict, Forbidden, NotFound, Unauthorized
from platform_db.models import Incident, LinkUse

TARGET = {"acknowledge": Status.ACKNOWLEDGED, "resolve": Status.RESOLVED}


def signer_for(settings: Settings) -> LinkSigner:
    """The app's signer (LINK_SIGNING_KEY; the settings make one up in local runs)."""
    assert settings.link_signing_key is not None
    return LinkSigner(settings.link_signing_key.get_secret_value(), ttl=timedelta(hours=settings.link_ttl_hours))


def page_actions(
    signer: LinkSigner, *, incident_id: uuid.UUID, recipient: str, contact: dict[str, Any], ui_base_url: str
) -> dict[str, str] | None:
    """The recipient's own acknowledge and resolve links for a page, to the UI's
    confirmation page; None when the recipient is not a user id (nobody to act as)."""
    try:
        user_id = uuid.UUID(recipient)
    except ValueError:
        return None
    name = str(contact.get("name") or recipient)
    base = f"{ui_base_url.rstrip('/')}/act/"
    return {
        action: base + signer.make(incident_id=incident_id, user_id=user_id, user_name=name, action=action)
        for action in ("acknowledge", "resolve")
    }


@dataclass(frozen=True)
class Preview:
    """A link's action, on which incident, as whom; why it can no longer be
    used, if so; and its use, once it was used."""

    claim: LinkClaim
    incident: Incident
    reason: str | None
    used: LinkUse | None


def _claim(signer: LinkSigner, token: str) -> LinkClaim:
    try:
        return signer.read(token)
    except LinkInvalid as exc:
        raise Unauthorized(str(exc)) from None


def _stale(incident: Incident, claim: LinkClaim, used: bool) -> str | None:
    """Why this link cannot act now, in words for the person holding it."""
    if used:
        return "This link was used already"
    if incident.status == Status.RESOLVED:
        return "The incident is already resolved; nothing left to do"
    if claim.action == "acknowledge" and incident.status != Status.OPEN:
        return f"The incident is already {incident.status.replace('_', ' ')}"
    return None


async def _incident(session: AsyncSession, claim: LinkClaim) -> Incident:
    incident = await queries.get_incident(session, incident_id=claim.incident_id)
    if incident is None:
        raise NotFound("The incident of this link no longer exists")
    return incident


async def preview(session: AsyncSession, *, signer: LinkSigner, token: str) -> Preview:
    """What the confirmation page shows before the person confirms."""
    claim = _claim(signer, token)
    incident = await _incident(session, claim)
    used = await queries.link_use(session, nonce=claim.nonce)
    reason = _stale(incident, claim, used is not None)
    if reason is None and await _acting_user(session, claim) is None:
        reason = NO_LONGER_MAY
    return Preview(claim=claim, incident=incident, reason=reason, used=used)


NO_LONGER_MAY = "This link's user may no longer acknowledge or resolve incidents"


async def _acting_user(session: AsyncSession, claim: LinkClaim) -> Actor | None:
    """The link's user as they are now: None when disabled, removed or made a viewer since the page went out."""
    return await queries.acting_user(session, user_id=claim.user_id)


async def use(session: AsyncSession, *, signer: LinkSigner, token: str, now: datetime) -> incidents.Outcome:
    """Act as the link's user. The use is stored in the same transaction as the
    change: of two taps at once one acts and the other is told it was used."""
    claim = _claim(signer, token)
    incident = await _incident(session, claim)
    actor = await _acting_user(session, claim)
    if actor is None:
        raise Forbidden(NO_LONGER_MAY)
    reason = _stale(incident, claim, used=False)
    if reason is not None:
        raise Conflict(reason, current_status=incident.status)
    if not await queries.use_link(session, claim=claim, now=now):
        raise Conflict("This link was used already")
    return await incidents.change_incident(
        session, incident_id=claim.incident_id, actor=actor, now=now, status=TARGET[claim.action]
    )
