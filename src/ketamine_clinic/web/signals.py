"""Audit logins, logouts and failed logins."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.dispatch import receiver

from ketamine_clinic.services.accounts import do_record_session_event
from ketamine_clinic.storage.models import EventType, User


@receiver(user_logged_in)
def _logged_in(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    do_record_session_event(EventType.LOGIN, user=user)


@receiver(user_logged_out)
def _logged_out(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    if user is not None and not getattr(request, "kc_idle_logout", False):
        do_record_session_event(EventType.LOGOUT, user=user)


@receiver(user_login_failed)
def _login_failed(sender: Any, credentials: dict[str, Any], request: Any = None, **kw: Any) -> None:
    # Only the account it was for, if any: never the typed text (a password lands there).
    typed = str(credentials.get("username", "")).strip()
    user = User.objects.filter(username__iexact=typed).first() if typed else None
    do_record_session_event(EventType.LOGIN_FAILED, user=user, known_account=user is not None)
