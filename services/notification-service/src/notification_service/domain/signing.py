"""Webhook signatures: receivers recompute the HMAC over the raw body to know it came from us."""

import hashlib
import hmac

SIGNATURE_HEADER = "X-Signature-256"
TIMESTAMP_HEADER = "X-Timestamp"


def sign(body: bytes, secret: bytes) -> str:
    """`sha256=<hex HMAC-SHA256 of body>`, GitHub's convention, which many receivers already verify."""
    return "sha256=" + hmac.new(secret, body, hashlib.sha256).hexdigest()


def verify(body: bytes, secret: bytes, header: str) -> bool:
    """Constant-time check of a signature header, as a receiver does it."""
    return hmac.compare_digest(sign(body, secret), header)
