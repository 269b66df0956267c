"""`/api/v1/incidents/links/{token}`: the signed one-click links in pages.

No login: the token is the credential, bound to one incident, user and action
(domain/links.py). The UI's confirmation page (/act/{token}) shows the GET and
sends the POST, so a link preview bot that fetches the URL changes nothing.
"""

from fastapi import APIRouter, Depends, Request

from incident_management.api.deps import ClockDep, EngineDep, SessionDep
from incident_management.api.routes.incidents import changed
from incident_management.api.schemas import IncidentRead, LinkPreview, LinkUsed, LinkUser
from incident_management.domain.links import LinkSigner
from incident_management.usecases import links
from platform_common.auth import SIGNED_LINK
from platform_common.errors import error_responses

router = APIRouter(prefix="/api/v1/incidents/links", tags=["incidents"], dependencies=[Depends(SIGNED_LINK)])

_ANSWERS = error_responses(401, 404, s401="the link is not valid or has expired", s404="the incident is gone")


def _signer(request: Request) -> LinkSigner:
    return request.app.state.link_signer


@router.get(
    "/{token}",
    summary="What a page's link would do, and whether it still can",
    description=(
        "The incident is in the answer only while the link can act on it; otherwise `reason` says why not"
        " (and `used`, by whom and when it acted)."
    ),
    responses=_ANSWERS,
)
async def preview_link(token: str, request: Request, session: SessionDep) -> LinkPreview:
    found = await links.preview(session, signer=_signer(request), token=token)
    user = LinkUser(id=found.claim.user_id, name=found.claim.user_name)
    usable = found.reason is None
    return LinkPreview(
        action=found.claim.action,
        incident_id=found.claim.incident_id,
        incident=IncidentRead.model_validate(found.incident) if usable else None,
        user=user,
        expires_at=found.claim.expires_at,
        usable=usable,
        reason=found.reason,
        used=LinkUsed(at=found.used.used_at, by=user) if found.used else None,
    )


@router.post(
    "/{token}",
    summary="Acknowledge or resolve as the link's user (once)",
    responses=error_responses(
        401,
        403,
        404,
        409,
        s401="the link is not valid or has expired",
        s403="the link's user may no longer act (disabled, or no longer a responder)",
        s409="used already, or nothing left to do",
    ),
)
async def use_link(
    token: str, request: Request, session: SessionDep, clock: ClockDep, engine: EngineDep
) -> IncidentRead:
    async with session.begin():
        outcome = await links.use(session, signer=_signer(request), token=token, now=clock.now())
    return changed(outcome, engine)
