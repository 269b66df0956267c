"""Integration keys: issue, look up (cached for a few seconds), seed."""

import hashlib
import logging
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime

from cachetools import TTLCache
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from alert_ingestion.db import queries
from platform_common.db import Database
from platform_db.models import Integration

log = logging.getLogger(__name__)

SEED_ID = uuid.UUID("00000000-0000-4000-8000-000000000001")


def hash_key(key: str) -> str:
    """The stored form of an integration key (SHA-256, hex)."""
    return hashlib.sha256(key.encode()).hexdigest()


def new_key() -> str:
    """32 hex characters, the shape of a PagerDuty integration key."""
    return secrets.token_hex(16)


@dataclass(frozen=True)
class KnownIntegration:
    """A valid integration key's integration, as cached."""

    id: uuid.UUID
    service: str
    type: str


class IntegrationKeys:
    """Resolves keys to integrations. The cache holds hits and misses for
    `ttl` seconds: a hot sender costs no query; a revocation reaches other
    replicas within `ttl` (this replica forgets at once). It opens its own
    short session on a miss, as platform_common.auth's credential cache does:
    a sender's request has no session of its own (the hot path opens none)."""

    def __init__(self, db: Database, *, ttl: float) -> None:
        self.db = db
        # Bounded: unknown keys from a scanner must not grow memory forever.
        self._cache: TTLCache[str, KnownIntegration | None] = TTLCache(maxsize=10_000, ttl=ttl)

    async def resolve(self, key: str) -> KnownIntegration | None:
        """The integration of a key, or None when unknown or revoked (cached for `ttl` seconds)."""
        digest = hash_key(key)
        try:  # one lookup: between `in` and `[]` an entry can expire
            return self._cache[digest]
        except KeyError:
            pass
        async with self.db.sessionmaker() as session:
            row = await queries.find_integration(session, key_hash=digest)
        found = KnownIntegration(row.id, row.service, row.type) if row and row.revoked_at is None else None
        self._cache[digest] = found
        return found

    def forget(self) -> None:
        """Empty the cache, so a revocation counts at once in this process."""
        self._cache.clear()


async def create(
    session: AsyncSession,
    *,
    name: str,
    service: str,
    type_: str,
    now: datetime,
    key: str | None = None,
    integration_id: uuid.UUID | None = None,
) -> tuple[Integration, str]:
    """Returns the stored integration and its key (shown once)."""
    key = key or new_key()
    integration = Integration(
        id=integration_id or uuid.uuid4(),
        name=name,
        service=service,
        type=type_,
        key_hash=hash_key(key),
        key_prefix=key[:8],
        created_at=now,
        revoked_at=None,
    )
    await queries.insert_integration(session, integration=integration)
    return integration, key


async def seed(session: AsyncSession, *, key: str | None, service: str, now: datetime) -> str | None:
    """Local runs: when no integration exists, create one; returns its key if
    this process created it (several workers may race; one wins)."""
    if await queries.any_integration(session):
        return None
    try:
        async with session.begin_nested():
            _, key = await create(
                session, name="local seed", service=service, type_="pagerduty", now=now, key=key, integration_id=SEED_ID
            )
    except IntegrityError:  # another worker seeded first (same id): nothing to do
        log.info("seed integration already created by another process")
        return None
    return key
