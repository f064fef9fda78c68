"""Log in and log out."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.auth.views import LoginView as _LoginView
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render


class LoginView(_LoginView):
    template_name = "registration/login.html"
    redirect_authenticated_user = True


def locked_out(request: HttpRequest, credentials: Any = None, *args: Any, **kw: Any) -> HttpResponse:
    """Shown (by django-axes) once an account has too many failed logins."""
    minutes = round(float(settings.AXES_COOLOFF_TIME) * 60)
    return render(
        request,
        "registration/login.html",
        {
            "locked_out": True,
            "failure_limit": settings.AXES_FAILURE_LIMIT,
            "lockout_minutes": minutes,
        },
        status=429,
    )
