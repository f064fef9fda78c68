"""Cursor pagination: rows in id order, ``next_cursor`` opaque (the last id shown, encoded).

A cursor never skips or repeats a row when rows are added between pages, unlike an offset."""

from __future__ import annotations

import base64
import binascii
from typing import Any, TypeVar

from django.db.models import Model, QuerySet

from ketamine_clinic.services.errors import InvalidInput

__all__ = ["MAX_LIMIT", "decode_cursor", "encode_cursor", "page"]

MAX_LIMIT = 100
M = TypeVar("M", bound=Model)


def encode_cursor(last_id: int) -> str:
    return base64.urlsafe_b64encode(f"id:{last_id}".encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> int:
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        kind, _, number = text.partition(":")
        if kind != "id" or not number.isdigit() or len(number) > 18:
            raise ValueError(text)
        return int(number)
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise InvalidInput("cursor must be a next_cursor value this API returned", field="cursor") from None


def page(rows: QuerySet[M], *, cursor: str | None, limit: int) -> tuple[list[M], str | None]:
    """Up to ``limit`` rows after ``cursor``, and the cursor of the next page (or ``None``)."""
    if not 1 <= limit <= MAX_LIMIT:
        raise InvalidInput(f"limit must be from 1 to {MAX_LIMIT}", field="limit")
    qs: QuerySet[Any] = rows.order_by("id")
    if cursor:
        qs = qs.filter(id__gt=decode_cursor(cursor))
    found = list(qs[: limit + 1])
    more = len(found) > limit
    found = found[:limit]
    return found, encode_cursor(found[-1].pk) if more and found else None
