"""View decorators: a page is open only to roles whose policy allows its action."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render

from ketamine_clinic.domain.policy import Action, can
from ketamine_clinic.services.errors import NotFound
from ketamine_clinic.storage.models import User

View = Callable[..., HttpResponse]


def requires(action: Action) -> Callable[[View], View]:
    """Log-in required; a role without ``action`` gets a 403 page that says why.
    ``NotFound`` from an access function becomes a 404."""

    def decorate(view: View) -> View:
        @login_required
        @wraps(view)
        def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            role = getattr(request.user, "role", "")
            if not role or not can(role, action):
                return render(request, "403.html", {"action": action}, status=403)
            try:
                return view(request, *args, **kwargs)
            except NotFound as exc:
                raise Http404(exc.message) from None

        return wrapped

    return decorate


def actor(request: HttpRequest) -> User:
    """The logged-in user of a view wrapped by ``requires`` (never anonymous there)."""
    user = request.user
    if not isinstance(user, User):
        raise PermissionError("a logged-in user is required")
    return user
