"""What routes receive: a session, the per-process objects built in the
lifespan, and, on the sender routes, the checks made before a body is read."""

import time
import uuid
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.ext.asyncio import AsyncSession

from alert_ingestion.usecases.ingest import Ingestor
from alert_ingestion.usecases.integrations import IntegrationKeys, KnownIntegration
from platform_common.clock import Clock
from platform_common.db import get_session
from platform_common.errors import TooManyRequests, Unauthorized


async def _ingestor(request: Request) -> Ingestor:
    return request.app.state.ingestor


async def _keys(request: Request) -> IntegrationKeys:
    return request.app.state.integration_keys


async def _clock(request: Request) -> Clock:
    return request.app.state.clock


SessionDep = Annotated[AsyncSession, Depends(get_session)]
IngestorDep = Annotated[Ingestor, Depends(_ingestor)]
KeysDep = Annotated[IntegrationKeys, Depends(_keys)]
ClockDep = Annotated[Clock, Depends(_clock)]


# Never in the URL: URLs are logged by every proxy on the way (the front door
# refuses a key there before it could log one; SECURITY.md).
KEY_REQUIRED = "An integration key is required: Authorization: Bearer <key> (a key in the URL is not accepted)"


def bearer_key(request: Request) -> str | None:
    """An integration key from `Authorization: Bearer <key>`. Reads the raw ASGI
    headers (names arrive lower-cased): on the hot path this is a tenth of the
    cost of building `request.headers`."""
    for name, value in request.scope["headers"]:
        if name == b"authorization":
            scheme, _, token = value.decode("latin-1").partition(" ")
            if scheme.lower() == "bearer" and token.strip():
                return token.strip()
            break
    return None


def client_wait(request: Request, events: int = 1) -> float:
    """0.0 when this client address may send `events` more, else the seconds to wait."""
    client = request.scope.get("client")
    address = client[0] if client else "unknown"
    return request.app.state.client_limiter.check(address, now=time.monotonic(), events=events)


def integration_wait(request: Request, integration_id: uuid.UUID, events: int = 1) -> float:
    """0.0 when this integration may send `events` more, else the seconds to wait."""
    return request.app.state.rate_limiter.check(integration_id, now=time.monotonic(), events=events)


async def sender(request: Request) -> KnownIntegration:
    """The integration a request sends for, in the order every sender route
    checks (PagerDuty's /v2/enqueue answers the same checks in its own shape):
    the client's rate, then the key before the body, so a sender without one
    learns that first and nothing of its body is parsed."""
    if wait := client_wait(request):
        raise TooManyRequests("Too many alerts from this address; retry later", retry_after=wait)
    key = bearer_key(request)
    if key is None:
        raise Unauthorized(KEY_REQUIRED)
    integration = await request.app.state.integration_keys.resolve(key)
    if integration is None:
        raise Unauthorized("Unknown or revoked integration key")
    return integration


def within_rate(request: Request, integration: KnownIntegration, events: int = 1) -> None:
    """429 when the integration would send more than its rate allows; `events` count together (a webhook's group)."""
    if wait := integration_wait(request, integration.id, events):
        raise TooManyRequests("Too many alerts for this integration; retry later", retry_after=wait)
