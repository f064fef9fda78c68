"""Bearer tokens for the JSON and FHIR API: one user each, shown once, stored hashed.

A token is ``kc_`` and 43 random URL-safe characters (256 bits). Only its SHA-256 digest
is kept: the token is long and random, so a digest without a salt cannot be reversed, and a
lookup by digest is one indexed query (docs/decisions/0025-api-tokens-and-problem-details.md).

Errors: ``InvalidInput`` (days out of range, unknown user), ``NotFound`` (no such token),
``Conflict`` (already revoked). ``authenticate`` never raises: it answers ``None`` for a
missing, expired or revoked token, or an inactive user, all alike.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import F, QuerySet
from django.utils import timezone

from ketamine_clinic.services import audit
from ketamine_clinic.services.errors import Conflict, InvalidInput, NotFound
from ketamine_clinic.storage.models import ApiToken, EventType, User

__all__ = [
    "MAX_DAYS",
    "Authenticated",
    "authenticate",
    "do_create_token",
    "do_revoke_token",
    "rate_limit_per_minute",
    "token_digest",
    "tokens_for_admin",
]

MAX_DAYS = 365
DEFAULT_DAYS = 90
_PREFIX_LEN = 11  # "kc_" and 8 characters: enough to name a token, useless to guess it


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def rate_limit_per_minute() -> int:
    """Requests one token may make in a minute (``KC_API_RATE_PER_MINUTE``, default 120)."""
    return int(getattr(settings, "KC_API_RATE_PER_MINUTE", 120))


def do_create_token(
    user: User, *, days: int = DEFAULT_DAYS, name: str = "", at: datetime | None = None, acting_user: User | None
) -> tuple[ApiToken, str]:
    """A new token for ``user``, valid ``days`` days (1 to 365); returns the row and the
    token itself, which is never stored and cannot be shown again."""
    if not 1 <= days <= MAX_DAYS:
        raise InvalidInput(f"days must be from 1 to {MAX_DAYS}", field="days")
    if not user.is_active:
        raise InvalidInput(f"{user.username} is deactivated; reactivate the account first", field="username")
    if len(name) > 80:
        raise InvalidInput("name must be at most 80 characters", field="name")
    now = at or timezone.now()
    token = "kc_" + secrets.token_urlsafe(32)
    with transaction.atomic():
        row = ApiToken.objects.create(
            user=user,
            name=name.strip(),
            prefix=token[:_PREFIX_LEN],
            digest=token_digest(token),
            created_at=now,
            created_by=acting_user,
            expires_at=now + timedelta(days=days),
        )
        audit.record(
            EventType.API_TOKEN_CREATED,
            actor=acting_user,
            subject=row,
            new={"user": user.username, "prefix": row.prefix, "expires_at": row.expires_at, "name": row.name},
        )
    return row, token


def do_revoke_token(prefix: str, *, acting_user: User | None, at: datetime | None = None) -> ApiToken:
    """Revoke the token whose first characters are ``prefix`` (as listed); at once."""
    with transaction.atomic():
        row = ApiToken.objects.select_for_update().filter(prefix=prefix.strip()).first()
        if row is None:
            raise NotFound(f"no token starts with {prefix.strip()!r}", field="prefix")
        if row.revoked_at is not None:
            raise Conflict(f"token {row.prefix} was already revoked", field="prefix")
        row.revoked_at = at or timezone.now()
        row.save(update_fields=["revoked_at"])
        audit.record(
            EventType.API_TOKEN_REVOKED, actor=acting_user, subject=row, new={"prefix": row.prefix, "user": row.user_id}
        )
    return row


@dataclass(frozen=True)
class Authenticated:
    """Who a request's token belongs to, and, past the rate limit, seconds to wait."""

    user: User
    token: ApiToken
    retry_after: int | None = None


def authenticate(raw: str, *, now: datetime | None = None) -> Authenticated | None:
    """The live token ``raw`` and its user, counting this request against the rate limit."""
    if not raw.startswith("kc_") or len(raw) > 100:
        return None
    now = now or timezone.now()
    row = ApiToken.objects.select_related("user").filter(digest=token_digest(raw)).first()
    if row is None or row.revoked_at is not None or row.expires_at <= now or not row.user.is_active:
        return None
    return Authenticated(row.user, row, _count(row, now))


def _count(row: ApiToken, now: datetime) -> int | None:
    """Fixed one-minute windows counted in the database, so every app server shares them."""
    window = timedelta(minutes=1)
    with transaction.atomic():
        fresh = ApiToken.objects.select_for_update().get(pk=row.pk)
        if fresh.window_started_at is None or now - fresh.window_started_at >= window:
            ApiToken.objects.filter(pk=row.pk).update(window_started_at=now, window_count=1, last_used_at=now)
            return None
        if fresh.window_count >= rate_limit_per_minute():
            wait = window - (now - fresh.window_started_at)
            return max(1, int(wait.total_seconds()) + 1)
        ApiToken.objects.filter(pk=row.pk).update(window_count=F("window_count") + 1, last_used_at=now)
    return None


def tokens_for_admin() -> QuerySet[ApiToken]:
    """Every token, newest first, with its user: never the token itself (it is not kept)."""
    return ApiToken.objects.select_related("user", "created_by").order_by("-created_at", "-id")
