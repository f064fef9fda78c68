"""Where a ``next`` parameter may send the browser: only back into this site."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponseRedirect
from django.shortcuts import redirect, resolve_url
from django.utils.http import url_has_allowed_host_and_scheme


def safe_next(request: HttpRequest, candidate: str | None, fallback: str) -> str:
    """``candidate`` if it stays on this host (and scheme, under TLS), else ``fallback``
    (a URL name or path)."""
    if candidate and url_has_allowed_host_and_scheme(
        candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return candidate
    return str(resolve_url(fallback))


def redirect_next(request: HttpRequest, candidate: str | None, fallback: str) -> HttpResponseRedirect:
    return redirect(safe_next(request, candidate, fallback))
