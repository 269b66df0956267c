"""What routes receive: a session, and the per-process use cases built in the lifespan."""

from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.ext.asyncio import AsyncSession

from alert_ingestion.usecases.ingest import Ingestor
from alert_ingestion.usecases.integrations import IntegrationKeys
from alert_ingestion.usecases.rate_limit import RateLimiter
from platform_common.clock import Clock
from platform_common.db import get_session


async def _ingestor(request: Request) -> Ingestor:
    return request.app.state.ingestor


async def _keys(request: Request) -> IntegrationKeys:
    return request.app.state.integration_keys


async def _limiter(request: Request) -> RateLimiter:
    return request.app.state.rate_limiter


async def _clock(request: Request) -> Clock:
    return request.app.state.clock


SessionDep = Annotated[AsyncSession, Depends(get_session)]
IngestorDep = Annotated[Ingestor, Depends(_ingestor)]
KeysDep = Annotated[IntegrationKeys, Depends(_keys)]
LimiterDep = Annotated[RateLimiter, Depends(_limiter)]
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
    return request.app.state.client_limiter.check(client[0] if client else "unknown", events)
