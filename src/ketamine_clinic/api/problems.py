"""Errors as problem details (RFC 9457), shared by the JSON API and the FHIR endpoints.

Every error body is ``application/problem+json`` with ``type``, ``title``, ``status`` and
``detail``, and two extension members: ``code`` (a stable error kind) and ``field`` (the
input the problem is about, when there is one). Validation errors list every bad field in
``errors``. Each ``code`` has one sentence for people in ``TITLES``.

Hierarchy of what is mapped here::

    services.errors.ServiceError   -> 404 not_found | 403 not_allowed | 422 invalid_input | 409 conflict
    ninja ValidationError          -> 422 invalid_input (every field)
    AuthenticationError            -> 401 unauthenticated
    Throttled                      -> 429 rate_limited (Retry-After)
"""

from __future__ import annotations

import json
from typing import Any

from django.http import HttpResponse
from ninja import Schema

__all__ = ["TITLES", "FieldProblem", "Problem", "Throttled", "problem", "status_for"]

PROBLEM_TYPE = "application/problem+json"

#: Each error kind and the sentence people read for it.
TITLES: dict[str, str] = {
    "unauthenticated": "A valid bearer token is required.",
    "rate_limited": "Too many requests with this token; wait and try again.",
    "not_found": "No such record, or it is not yours to see.",
    "not_allowed": "Your role may not do this.",
    "invalid_input": "A field is missing or out of its allowed range.",
    "conflict": "The request clashes with the record's current state.",
    "method_not_allowed": "This address does not accept that method.",
    "service_error": "The request could not be completed.",
}

_STATUS = {"not_found": 404, "not_allowed": 403, "invalid_input": 422, "conflict": 409, "service_error": 400}


class FieldProblem(Schema):
    field: str
    message: str


class Problem(Schema):
    """An RFC 9457 problem document with the field it is about."""

    type: str = "about:blank"
    title: str
    status: int
    detail: str
    code: str
    field: str | None = None
    errors: list[FieldProblem] = []


class Throttled(Exception):
    """The token is over its rate limit; ``retry_after`` seconds until the next window."""

    def __init__(self, retry_after: int) -> None:
        super().__init__(f"rate limit reached; retry after {retry_after} s")
        self.retry_after = retry_after


def status_for(code: str) -> int:
    return _STATUS.get(code, 400)


def problem(
    status: int,
    code: str,
    detail: str,
    *,
    field: str | None = None,
    errors: list[dict[str, str]] | None = None,
    headers: dict[str, str] | None = None,
) -> HttpResponse:
    body: dict[str, Any] = {
        "type": "about:blank",
        "title": TITLES.get(code, TITLES["service_error"]),
        "status": status,
        "detail": detail,
        "code": code,
        "field": field,
        "errors": errors or ([{"field": field, "message": detail}] if field else []),
    }
    response = HttpResponse(json.dumps(body), status=status, content_type=PROBLEM_TYPE)
    for name, value in (headers or {}).items():
        response[name] = value
    return response
