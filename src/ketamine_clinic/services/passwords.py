"""Passwords a person manages: change, reset by an e-mailed single-use link, and the rules
every password meets; the keys failed logins are counted under (docs/decisions/0012-accounts.md).

Errors: ``InvalidInput`` (a password that breaks a rule, a wrong current password, a
used or expired link), each naming its field.
"""

from __future__ import annotations

import hashlib
import hmac
from datetime import timedelta
from functools import partial
from typing import Any

from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.contrib.auth.tokens import default_token_generator
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import Sum
from django.utils import timezone
from django.utils.encoding import force_bytes, force_str
from django.utils.http import urlsafe_base64_decode, urlsafe_base64_encode

from ketamine_clinic.services import audit
from ketamine_clinic.services.errors import InvalidInput
from ketamine_clinic.storage.models import EventType, User

__all__ = [
    "DEMO_PASSWORD",
    "DemoPasswordValidator",
    "address_failures",
    "do_change_own_password",
    "do_request_password_reset",
    "do_reset_password",
    "login_key",
    "reset_link",
    "user_for_reset_link",
]

#: The public demo password (README, ``ketamine_clinic.demo``): refused unless ``KC_DEMO=1``.
DEMO_PASSWORD = "clinic-demo-2026"


class DemoPasswordValidator:
    """Refuse the published demo password outside demo mode (``KC_DEMO``)."""

    def validate(self, password: str, user: Any = None) -> None:
        if password.strip().lower() == DEMO_PASSWORD and not settings.KC_DEMO:
            raise ValidationError("This is the public demo password; choose your own.", code="demo_password")

    def get_help_text(self) -> str:
        return "Your password cannot be the public demo password."


def _check(password: str, user: User, field: str) -> None:
    try:
        validate_password(password, user)
    except ValidationError as exc:
        raise InvalidInput(" ".join(exc.messages), field=field) from None


def do_change_own_password(user: User, current: str, new: str) -> User:
    """The user changes their own password; the current one is required."""
    if not user.check_password(current):
        raise InvalidInput("the current password is not right", field="old_password")
    _check(new, user, "new_password1")
    with transaction.atomic():
        user.set_password(new)
        user.save(update_fields=["password"])
        audit.record(EventType.PASSWORD_CHANGED, actor=user, subject=user)
    return user


def reset_link(user: User, base_url: str) -> str:
    """A single-use link to choose a password (also the portal invitation's link)."""
    return _link(user, base_url)


def _link(user: User, base_url: str) -> str:
    uid = urlsafe_base64_encode(force_bytes(user.pk))
    return f"{base_url.rstrip('/')}/account/reset/{uid}/{default_token_generator.make_token(user)}/"


def do_request_password_reset(email: str, *, base_url: str) -> int:
    """Mail a single-use reset link to each active account with ``email``. The answer to
    the person never depends on whether one exists; an address that matches no account is
    not stored anywhere. Returns the number of links sent (for tests and the CLI)."""
    users = [u for u in User.objects.filter(email__iexact=email.strip(), is_active=True) if u.has_usable_password()]
    for user in users:
        with transaction.atomic():
            audit.record(EventType.PASSWORD_RESET_REQUESTED, actor=None, subject=user)
            transaction.on_commit(partial(_send_reset_mail, user, _link(user, base_url)))
    return len(users)


def _send_reset_mail(user: User, link: str) -> None:
    minutes = int(settings.PASSWORD_RESET_TIMEOUT) // 60
    send_mail(
        "Reset your Ketamine Clinic password",
        f"Someone asked to reset the password of {user.username}.\n\n"
        f"Open this link within {minutes} minutes to choose a new one (it works once):\n{link}\n\n"
        "If it was not you, ignore this message; your password is unchanged.",
        None,
        [user.email],
    )


def user_for_reset_link(uidb64: str, token: str) -> User | None:
    """The user a reset link belongs to, if the link is valid, unused and not expired.
    A link stops working once the password changes (the token covers its hash)."""
    try:
        pk = int(force_str(urlsafe_base64_decode(uidb64)))
    except (ValueError, TypeError, OverflowError):
        return None
    user = User.objects.filter(pk=pk, is_active=True).first()
    if user is None or not default_token_generator.check_token(user, token):
        return None
    return user


def do_reset_password(uidb64: str, token: str, new: str) -> User:
    user = user_for_reset_link(uidb64, token)
    if user is None:
        raise InvalidInput("this link is used, expired or not valid; ask for a new one", field="token")
    _check(new, user, "new_password1")
    with transaction.atomic():
        user.set_password(new)
        user.save(update_fields=["password"])
        audit.record(EventType.PASSWORD_RESET, actor=user, subject=user)
    return user


def login_key(typed: str) -> str:
    """What failed logins are counted and locked under: the account's id when the typed
    name is a user, else a keyed hash of it, so what was typed (perhaps a password in the
    wrong field) is never stored."""
    name = typed.strip()
    user = User.objects.filter(username__iexact=name).only("pk").first() if name else None
    if user is not None:
        return f"user-{user.pk}"
    digest = hmac.new(str(settings.SECRET_KEY).encode(), name.lower().encode(), hashlib.sha256).hexdigest()
    return f"unknown-{digest[:24]}"


def address_failures(address: str | None) -> int:
    """Failed logins from ``address`` (any account) within the lockout period."""
    from axes.models import AccessAttempt

    if not address:
        return 0
    since = timezone.now() - timedelta(hours=float(settings.AXES_COOLOFF_TIME))
    total = AccessAttempt.objects.filter(ip_address=address, attempt_time__gte=since).aggregate(
        n=Sum("failures_since_start")
    )["n"]
    return int(total or 0)
