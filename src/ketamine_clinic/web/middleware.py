"""Security headers, no caching of pages, and the idle timeout."""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import patch_cache_control

from ketamine_clinic.services import clinic, two_factor
from ketamine_clinic.services.accounts import do_record_session_event
from ketamine_clinic.services.clinic import idle_timeout_minutes, two_factor_required
from ketamine_clinic.storage.models import EventType, User

Handler = Callable[[HttpRequest], HttpResponse]


class ContentSecurityPolicyMiddleware:
    """A strict CSP: every script and stylesheet comes from this server, none inline."""

    def __init__(self, get_response: Handler) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        response.headers.setdefault("Content-Security-Policy", settings.KC_CONTENT_SECURITY_POLICY)
        response.headers.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
        return response


class SettingsOncePerRequestMiddleware:
    """The clinic's settings row is read at most once while a request is answered
    (``services.clinic.request_scope``)."""

    def __init__(self, get_response: Handler) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        with clinic.request_scope():
            return self.get_response(request)


class NoStoreMiddleware:
    """``Cache-Control: no-store`` on every page the application renders (static files are
    answered earlier by WhiteNoise): no page with patient data stays in a browser's or a
    proxy's cache after logout."""

    def __init__(self, get_response: Handler) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        patch_cache_control(response, no_store=True, no_cache=True, must_revalidate=True, private=True)
        response.headers["Pragma"] = "no-cache"
        return response


def is_user_action(request: HttpRequest) -> bool:
    """A full page request or form post, or an htmx request marked by ``kc/activity.js`` as
    caused by the person (a keystroke, a click). An htmx poll is not."""
    if not request.headers.get("HX-Request"):
        return True
    return request.headers.get("X-KC-User-Action") == "1"


class IdleTimeoutMiddleware:
    """Log a user out after the clinic's idle timeout without a user action.

    The last user action's time lives in the session; background requests (htmx polls)
    are checked against it but never move it, so an open chair-side page does not keep a
    login alive. The timeout is the clinic setting (``services.clinic.idle_timeout_minutes``).
    """

    KEY = "kc_last_seen"
    #: The last action's time is written at most this often (seconds): a session write per
    #: click was a database write transaction per page; half a minute is nothing against a
    #: timeout counted in minutes.
    RESOLUTION_S = 30

    def __init__(self, get_response: Handler) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.user.is_authenticated:
            now = timezone.now().timestamp()
            last = request.session.get(self.KEY)
            limit = idle_timeout_minutes()
            if last is not None and now - float(last) > limit * 60:
                return self._expire(request, limit)
            if last is None or (is_user_action(request) and now - float(last) >= self.RESOLUTION_S):
                request.session[self.KEY] = now
        return self.get_response(request)

    def _expire(self, request: HttpRequest, limit: int) -> HttpResponse:
        user = request.user
        request.kc_idle_logout = True  # type: ignore[attr-defined]
        logout(request)
        do_record_session_event(EventType.IDLE_LOGOUT, user=user)  # type: ignore[arg-type]
        messages.info(request, f"You were logged out after {limit} minutes without activity.")
        target = reverse("login") + "?" + urlencode({"next": request.get_full_path()})
        response = HttpResponseRedirect(target)
        if request.headers.get("HX-Request"):  # HtmxMiddleware runs later in the chain
            response["HX-Redirect"] = target
        return response


class TwoFactorMiddleware:
    """After the password, a user with an authenticator must enter its code; staff without
    one are sent to set it up when the clinic requires it (``two_factor_required``)."""

    OPEN = ("/login/", "/logout/", "/account/two-factor/", "/account/reset/", "/static/")

    def __init__(self, get_response: Handler) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = request.user
        if not isinstance(user, User) or request.path.startswith(self.OPEN):
            return self.get_response(request)
        if getattr(user, "is_verified", lambda: False)():  # set by django-otp's middleware
            return self.get_response(request)
        if two_factor.has_confirmed_device(user):
            return self._send(request, "two-factor-verify")
        if two_factor.is_staff_member(user) and two_factor_required():
            return self._send(request, "two-factor-setup")
        return self.get_response(request)

    def _send(self, request: HttpRequest, name: str) -> HttpResponse:
        target = reverse(name) + "?" + urlencode({"next": request.get_full_path()})
        response = HttpResponseRedirect(target)
        if request.headers.get("HX-Request"):
            response["HX-Redirect"] = target
        return response


class OnceMiddleware:
    """A POST carrying a ``form_token`` is handled only the first time that token is seen
    (``services.once``); a repeat goes back to the page it came from with a message."""

    def __init__(self, get_response: Handler) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        from ketamine_clinic.services.once import claim_form_token, is_token
        from ketamine_clinic.web.redirects import safe_next

        token = request.POST.get("form_token", "") if request.method == "POST" else ""
        if token and is_token(token):
            user = request.user if isinstance(request.user, User) else None
            if not claim_form_token(token, user):
                messages.info(request, "That form was already sent; it was recorded once.")
                return HttpResponseRedirect(safe_next(request, request.META.get("HTTP_REFERER"), "home"))
        return self.get_response(request)


class RefuseNulMiddleware:
    """A NUL character in any field or query parameter is refused with a message naming the
    field (PostgreSQL cannot store it, and no person types it); nothing reaches a view."""

    def __init__(self, get_response: Handler) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        from django.http import HttpResponseBadRequest
        from django.utils.html import escape

        sources = [request.GET, request.POST] if request.method == "POST" else [request.GET]
        for source in sources:
            for name, values in source.lists():
                if "\x00" in name or any("\x00" in v for v in values):
                    if request.path.startswith(("/api/", "/fhir/")):
                        return _nul_for_machines(request.path, name.replace("\x00", "") or "parameter")
                    field = escape(name.replace("\x00", ""))
                    return HttpResponseBadRequest(
                        f"<p>{field or 'A field'}: contains a character that is not allowed (NUL). "
                        "Go back and type the value again.</p>"
                    )
        return self.get_response(request)


def _nul_for_machines(path: str, field: str) -> HttpResponse:
    """The JSON API's problem details (422) or FHIR's OperationOutcome (400) for a NUL."""
    import json

    message = f"{field}: contains a character that is not allowed (NUL)"
    if path.startswith("/fhir/"):
        issue = {"severity": "error", "code": "invalid", "diagnostics": message, "expression": [field]}
        body = {"resourceType": "OperationOutcome", "issue": [issue]}
        return HttpResponse(json.dumps(body), status=400, content_type="application/fhir+json")
    problem = {
        "type": "about:blank",
        "title": "A field is missing or out of its allowed range.",
        "status": 422,
        "detail": message,
        "code": "invalid_input",
        "field": field,
        "errors": [{"field": field, "message": message}],
    }
    return HttpResponse(json.dumps(problem), status=422, content_type="application/problem+json")
