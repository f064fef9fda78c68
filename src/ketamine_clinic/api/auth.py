"""Bearer-token authentication for the JSON API and FHIR: a token per user
(``services.api_tokens``), counted against the token's rate limit on every request."""

from __future__ import annotations

from django.http import HttpRequest
from ninja.security import HttpBearer

from ketamine_clinic.api.problems import Throttled
from ketamine_clinic.services import api_tokens
from ketamine_clinic.storage.models import User

__all__ = ["BearerToken", "bearer_user"]


def bearer_user(request: HttpRequest) -> User | None:
    """The user of the request's ``Authorization: Bearer`` token, or ``None``; raises
    ``Throttled`` past the token's rate limit."""
    header = request.headers.get("Authorization", "")
    scheme, _, raw = header.partition(" ")
    if scheme.lower() != "bearer" or not raw.strip():
        return None
    found = api_tokens.authenticate(raw.strip())
    if found is None:
        return None
    if found.retry_after is not None:
        raise Throttled(found.retry_after)
    return found.user


class BearerToken(HttpBearer):
    def __call__(self, request: HttpRequest) -> User | None:
        return bearer_user(request)

    def authenticate(self, request: HttpRequest, token: str) -> User | None:  # pragma: no cover (``__call__`` does it)
        return bearer_user(request)
