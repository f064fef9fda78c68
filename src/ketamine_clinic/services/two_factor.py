"""TOTP second factor (django-otp): set up, confirm, check, remove; each step audited.
Whether staff must use it is the clinic setting ``services.clinic.two_factor_required``.

Errors: ``InvalidInput`` (field ``token``) for a code that does not match or was used.
"""

from __future__ import annotations

import base64

from django.db import transaction
from django_otp.plugins.otp_totp.models import TOTPDevice

from ketamine_clinic.domain.policy import Role
from ketamine_clinic.services import audit, clinic
from ketamine_clinic.services.accounts import _require_admin
from ketamine_clinic.services.errors import InvalidInput
from ketamine_clinic.storage.models import EventType, User

__all__ = [
    "confirmed_device",
    "has_confirmed_device",
    "do_confirm_totp",
    "do_remove_totp",
    "do_verify_totp",
    "is_staff_member",
    "pending_device",
    "secret_text",
]


def is_staff_member(user: User) -> bool:
    return user.role != Role.PATIENT


def confirmed_device(user: User) -> TOTPDevice | None:
    return TOTPDevice.objects.filter(user=user, confirmed=True).first()


def has_confirmed_device(user: User) -> bool:
    """Whether ``user`` has a confirmed authenticator, as the sign-in check of every request
    asks it. The signed-in user of a request is read together with the answer
    (``web.fast_auth``), so that check costs no query and is never older than the request.
    Otherwise only a yes is reused by this process for a few seconds (``clinic.recent``): a
    no is asked of the database every time, so an authenticator confirmed through another
    server process is required at once there too (the check fails closed); one removed
    through another process stops being asked for within ``clinic.CACHE_SECONDS``."""
    read_with_user = getattr(user, "kc_has_confirmed_device", None)
    if read_with_user is not None:
        return bool(read_with_user)
    found = clinic.recent(
        f"{_DEVICE_KEY}{user.pk}", lambda: TOTPDevice.objects.filter(user=user, confirmed=True).exists(), keep=bool
    )
    return bool(found)


_DEVICE_KEY = "two_factor:"
# any device saved or removed drops every user's kept yes (devices change rarely)
clinic.forget_when_saved(_DEVICE_KEY, TOTPDevice)


def pending_device(user: User) -> TOTPDevice:
    """The user's unconfirmed authenticator, created on first use (not audited: it does
    nothing until confirmed)."""
    device = TOTPDevice.objects.filter(user=user, confirmed=False).first()
    return device or TOTPDevice.objects.create(user=user, name="authenticator", confirmed=False)


def secret_text(device: TOTPDevice) -> str:
    """The key as an authenticator app asks for it (base32, in groups of four)."""
    key = base64.b32encode(device.bin_key).decode("ascii").rstrip("=")
    return " ".join(key[i : i + 4] for i in range(0, len(key), 4))


def _check(user: User, device: TOTPDevice, token: str) -> None:
    if not device.verify_token(token.replace(" ", "")):
        with transaction.atomic():
            audit.record(EventType.TWO_FACTOR_FAILED, actor=user, subject=user)
        raise InvalidInput("the code does not match; enter the current 6-digit code", field="token")


def do_confirm_totp(user: User, token: str) -> TOTPDevice:
    device = pending_device(user)
    _check(user, device, token)
    with transaction.atomic():
        TOTPDevice.objects.filter(user=user).exclude(pk=device.pk).delete()
        device.confirmed = True
        device.save(update_fields=["confirmed"])
        audit.record(EventType.TWO_FACTOR_ENABLED, actor=user, subject=user)
    return device


def do_verify_totp(user: User, token: str) -> TOTPDevice:
    """Check a code at log-in; a used code, a wrong one or too many tries is refused
    (django-otp keeps the last time step used and throttles failures)."""
    device = confirmed_device(user)
    if device is None:
        raise InvalidInput("no authenticator is set up", field="token")
    _check(user, device, token)
    return device


def do_remove_totp(user: User, *, acting_user: User | None) -> int:
    """An administrator removes a lost authenticator; the user sets up a new one."""
    _require_admin(acting_user)
    with transaction.atomic():
        removed, _ = TOTPDevice.objects.filter(user=user).delete()
        audit.record(EventType.TWO_FACTOR_REMOVED, actor=acting_user, subject=user)
    return int(removed)
