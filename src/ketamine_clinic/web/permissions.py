"""View decorators: a page is open only to roles whose policy allows its action."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse

from ketamine_clinic.domain.policy import Action, can
from ketamine_clinic.services import access
from ketamine_clinic.services.errors import NotFound, PatientMerged
from ketamine_clinic.storage.models import User

View = Callable[..., HttpResponse]


def _shown_as_a_page(request: HttpRequest, response: HttpResponse) -> bool:
    """A page a person sees: not an htmx fragment or poll, not a redirect or an error."""
    return not request.headers.get("HX-Request") and response.status_code in (200, 422)


def requires(action: Action, *, phi: bool = True) -> Callable[[View], View]:
    """Log-in required; a role without ``action`` gets a 403 page that says why.
    ``NotFound`` from an access function becomes a 404 (a merged duplicate's page redirects
    to the kept record's). A ``phi`` page shown to the user
    leaves exactly one audit row (``services.access.page_view``); fragments leave none."""

    def decorate(view: View) -> View:
        @login_required
        @wraps(view)
        def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            role = getattr(request.user, "role", "")
            if not role or not can(role, action):
                return render(request, "403.html", {"action": action}, status=403)
            with access.page_view() as reads:
                try:
                    response = view(request, *args, **kwargs)
                except PatientMerged as exc:
                    moved = _to_kept_record(request, exc)
                    if moved is None:
                        raise Http404(exc.message) from None
                    return moved
                except NotFound as exc:
                    raise Http404(exc.message) from None
            if phi and _shown_as_a_page(request, response):
                match = request.resolver_match
                access.do_record_page_view(
                    actor(request), reads, page=(match.url_name if match else None) or request.path
                )
            return response

        return wrapped

    return decorate


def _to_kept_record(request: HttpRequest, merged: PatientMerged) -> HttpResponse | None:
    """A page of a merged duplicate's record (a bookmark, an old link) redirects to the same
    page of the kept record, saying why; other pages stay a 404."""
    match = request.resolver_match
    if request.method != "GET" or match is None or "patient_id" not in match.kwargs or not match.url_name:
        return None
    messages.info(request, "That record was a duplicate registration, merged into this one.")
    return HttpResponseRedirect(reverse(match.url_name, kwargs={**match.kwargs, "patient_id": merged.kept_id}))


def actor(request: HttpRequest) -> User:
    """The logged-in user of a view wrapped by ``requires`` (never anonymous there)."""
    user = request.user
    if not isinstance(user, User):
        raise PermissionError("a logged-in user is required")
    return user
