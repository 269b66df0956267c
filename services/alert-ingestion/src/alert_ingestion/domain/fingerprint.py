"""Fingerprints: what makes two alerts "the same alert"."""

import hashlib
import re

# Parts of a message that change from one firing to the next while it stays the
# same problem: ids, hex digests, numbers ("disk 91% full" and "disk 93% full").
_UUID = re.compile(r"\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b")
_HEX = re.compile(r"\b(?=[0-9a-f]*\d)[0-9a-f]{8,}\b")
_NUMBER = re.compile(r"\d+(?:[.,]\d+)*")
_SPACE = re.compile(r"\s+")


def normalise_message(message: str) -> str:
    """Lower case, single spaces, and variable parts replaced by placeholders."""
    text = message.strip().lower()
    text = _UUID.sub("<uuid>", text)
    text = _HEX.sub("<hex>", text)
    text = _NUMBER.sub("<n>", text)
    return _SPACE.sub(" ", text)


def fingerprint(*, service: str, severity: str, message: str, dedup_key: str | None) -> str:
    """The sender's dedup key when it gave one, else a stable hash of service,
    severity and the normalised message (64 hex characters)."""
    if dedup_key:
        return dedup_key
    material = "\x1f".join((service.strip().lower(), severity, normalise_message(message)))
    return hashlib.sha256(material.encode()).hexdigest()


def dedup_scope(*, integration_id: str | None, service: str) -> str:
    """Where a fingerprint is unique: a dedup key matches only within its own
    integration (PagerDuty's routing_key rule); keyless generic alerts per service."""
    return integration_id if integration_id else f"service:{service}"
