"""One-time form tokens: every page render carries a fresh token in its forms; the first
submission claims it and a second (a double click, a replayed page, a second tab's stale
copy) is refused before it reaches the service, so a clinical record is written once."""

from __future__ import annotations

import re
from datetime import timedelta

from django.db import IntegrityError, transaction
from django.utils import timezone

from ketamine_clinic.storage.models import FormToken, User

__all__ = ["claim_form_token", "is_token"]

_TOKEN = re.compile(r"^[0-9a-f]{32}$")
KEEP = timedelta(days=7)


def is_token(value: str) -> bool:
    return bool(_TOKEN.match(value or ""))


def claim_form_token(token: str, user: User | None) -> bool:
    """Claim ``token``; ``False`` when it was claimed before (the submission is a repeat).
    Claims older than a week are cleared now and then (a page is not kept open that long)."""
    now = timezone.now()
    try:
        with transaction.atomic():
            FormToken.objects.create(token=token, user=user if user and user.pk else None, claimed_at=now)
    except IntegrityError:
        return False
    if now.second == 0:  # about one claim in sixty sweeps the old ones
        FormToken.objects.filter(claimed_at__lt=now - KEEP).delete()
    return True
