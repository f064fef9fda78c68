"""Log in and log out; failed logins are throttled per account (django-axes) and per
address (here)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.auth.views import LoginView as _LoginView
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from ketamine_clinic.services.accounts import do_record_session_event
from ketamine_clinic.services.passwords import address_failures, login_key
from ketamine_clinic.storage.models import EventType


class LoginView(_LoginView):
    template_name = "registration/login.html"
    redirect_authenticated_user = True

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        address = request.META.get("REMOTE_ADDR")
        if address_failures(address) >= settings.KC_LOGIN_ADDRESS_LIMIT:
            do_record_session_event(EventType.LOGIN_THROTTLED, user=None, known_account=True, address=address or "")
            return render(
                request,
                "registration/login.html",
                {"throttled": True, "lockout_minutes": _lockout_minutes()},
                status=429,
            )
        return super().post(request, *args, **kwargs)


def _lockout_minutes() -> int:
    return round(float(settings.AXES_COOLOFF_TIME) * 60)


def axes_username(request: HttpRequest, credentials: Any = None) -> str:
    """django-axes counts failures under this key instead of the typed user name."""
    typed = (credentials or {}).get("username") if credentials else None
    if typed is None:
        typed = request.POST.get("username", "")
    return login_key(str(typed))


def locked_out(request: HttpRequest, credentials: Any = None, *args: Any, **kw: Any) -> HttpResponse:
    """Shown (by django-axes) once an account has too many failed logins."""
    return render(
        request,
        "registration/login.html",
        {
            "locked_out": True,
            "failure_limit": settings.AXES_FAILURE_LIMIT,
            "lockout_minutes": _lockout_minutes(),
        },
        status=429,
    )
