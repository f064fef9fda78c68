"""Sending a text message through a pluggable backend, like Django's e-mail backends.

``KC_SMS_BACKEND`` (a Django setting, a dotted path) names a class with
``send(to, body, *, at)``; the default ``OutboxBackend`` writes the text to the
``SmsOutbox`` table, where the demo and the tests read it. A real gateway is a small class
that posts to its API and raises on failure (the caller retries and records the error).
"""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from django.conf import settings
from django.utils.module_loading import import_string

from ketamine_clinic.storage.models import SmsOutbox

__all__ = ["OutboxBackend", "SmsBackend", "get_backend"]

DEFAULT_BACKEND = "ketamine_clinic.services.sms.OutboxBackend"
MAX_LENGTH = 480


class SmsBackend(Protocol):
    def send(self, to: str, body: str, *, at: datetime) -> None: ...


class OutboxBackend:
    """Keeps every text in the ``SmsOutbox`` table instead of sending it."""

    def send(self, to: str, body: str, *, at: datetime) -> None:
        SmsOutbox.objects.create(to=to, body=body[:MAX_LENGTH], at=at)


def get_backend() -> SmsBackend:
    backend: SmsBackend = import_string(getattr(settings, "KC_SMS_BACKEND", DEFAULT_BACKEND))()
    return backend
