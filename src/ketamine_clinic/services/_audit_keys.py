"""The audit trail's keyed MACs (docs/decisions/0009-keyed-audit-trail.md).

The key (``KC_AUDIT_KEY``) lives outside the database, so someone who can write the
database can recompute the SHA-256 links but not the MACs. Two keys are derived from it,
one for rows and one for checkpoints, so a MAC of one kind never passes as the other.
"""

from __future__ import annotations

import functools
import hashlib
import hmac

from django.conf import settings

__all__ = ["checkpoint_mac", "row_mac"]


def _derived(purpose: bytes) -> bytes:
    return _derive(str(settings.KC_AUDIT_KEY), purpose)


@functools.lru_cache(maxsize=8)
def _derive(master: str, purpose: bytes) -> bytes:
    """Cached by the key itself, so a changed setting (tests) derives afresh."""
    if not master:
        raise RuntimeError("KC_AUDIT_KEY is not configured")
    return hmac.new(master.encode("utf-8"), purpose, hashlib.sha256).digest()


def row_mac(row_hash: str) -> str:
    """HMAC-SHA256 of a row's hash (which covers its content and the previous link)."""
    return hmac.new(_derived(b"kc-audit-row-v1"), row_hash.encode("ascii"), hashlib.sha256).hexdigest()


def checkpoint_mac(canonical: str) -> str:
    """HMAC-SHA256 of a checkpoint's canonical JSON."""
    return hmac.new(_derived(b"kc-audit-checkpoint-v1"), canonical.encode("utf-8"), hashlib.sha256).hexdigest()
