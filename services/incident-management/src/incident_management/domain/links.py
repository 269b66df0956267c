"""Signed one-click links in pages: acknowledge or resolve one incident as one user.

A link's token is the credential (the responder at 3 a.m. taps it on a phone
that may not be signed in), so it says exactly what it may do: the incident,
the user it acts as, the action. It is signed with HMAC (itsdangerous, the
Pallets library, SHA-256 under LINK_SIGNING_KEY), expires after
LINK_TTL_HOURS, and carries a nonce the service remembers once it is used
(incident_link_uses), so it acts once. Pure: no database here.
"""

import hashlib
import secrets
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

from platform_db.enums import LINK_ACTIONS, LinkAction

SALT = "incident-page-link"


class LinkInvalid(Exception):
    """The token was not made here, was altered, or has expired (the message says which)."""


@dataclass(frozen=True)
class LinkClaim:
    """What a valid token allows."""

    incident_id: uuid.UUID
    user_id: uuid.UUID
    user_name: str
    action: LinkAction
    nonce: str
    expires_at: datetime


class LinkSigner:
    """Makes and reads the tokens; one per app (every replica needs the same key)."""

    def __init__(self, key: str, *, ttl: timedelta) -> None:
        self._serializer = URLSafeTimedSerializer(key, salt=SALT, signer_kwargs={"digest_method": hashlib.sha256})
        self.ttl = ttl

    def make(self, *, incident_id: uuid.UUID, user_id: uuid.UUID, user_name: str, action: LinkAction) -> str:
        """A fresh token for one action (its own nonce)."""
        payload = {"i": str(incident_id), "u": str(user_id), "n": user_name, "a": action, "k": secrets.token_hex(16)}
        return str(self._serializer.dumps(payload))

    def read(self, token: str) -> LinkClaim:
        """The claim of a valid token; LinkInvalid otherwise."""
        try:
            payload, signed_at = self._serializer.loads(token, max_age=self.ttl.total_seconds(), return_timestamp=True)
        except SignatureExpired:
            raise LinkInvalid("This link has expired; open the incident in the web UI instead") from None
        except BadSignature:
            raise LinkInvalid("This link is not valid (it was changed or not made by this platform)") from None
        try:
            if payload["a"] not in LINK_ACTIONS:
                raise ValueError("unknown action")
            return LinkClaim(
                incident_id=uuid.UUID(payload["i"]),
                user_id=uuid.UUID(payload["u"]),
                user_name=str(payload["n"]),
                action=payload["a"],
                nonce=str(payload["k"]),
                expires_at=signed_at.astimezone(UTC) + self.ttl,
            )
        except (KeyError, TypeError, ValueError):
            raise LinkInvalid("This link is not valid") from None
