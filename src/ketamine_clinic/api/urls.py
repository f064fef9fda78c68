"""URLs of the JSON API (``/api/v1/``) and FHIR (``/fhir/r4/``), included by ``web.urls``.

Every view is wrapped so a request that read patient data leaves exactly one audit row,
like a web page (``services.access.page_view``; docs/decisions/0010-phi-reads.md): the
chart it opened (``CHART_VIEWED``) or the patients it listed (``PAGE_VIEWED``). Writes are
audited by their services.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.urls import URLPattern, URLResolver, include, path

from ketamine_clinic.api.fhir import views as fhir
from ketamine_clinic.api.v1 import api
from ketamine_clinic.services import access
from ketamine_clinic.storage.models import User

__all__ = ["audited", "urlpatterns"]


def audited(view: Callable[..., HttpResponse], *, label: str) -> Callable[..., HttpResponse]:
    @wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        with access.page_view() as reads:
            response = view(request, *args, **kwargs)
        user = getattr(request, "auth", None) or getattr(request, "kc_api_user", None)
        if isinstance(user, User) and response.status_code < 400 and (reads.opened or reads.listed):
            access.do_record_page_view(user, reads, page=f"api {request.method} {label}")
        return response

    return wrapped


def _wrap(patterns: list[URLPattern | URLResolver], prefix: str) -> list[URLPattern | URLResolver]:
    out: list[URLPattern | URLResolver] = []
    for p in patterns:
        if isinstance(p, URLPattern):
            label = prefix + str(p.pattern)
            out.append(URLPattern(p.pattern, audited(p.callback, label=label), p.default_args, p.name))
        else:
            out.append(p)
    return out


_v1_patterns, _app, _namespace = api.urls

_fhir_patterns: list[URLPattern | URLResolver] = [
    path("metadata", fhir.capability, name="metadata"),
    path("$export", fhir.export_kickoff, name="export"),
    path("Patient/$export", fhir.export_kickoff, {"level": "patient"}, name="patient-export"),
    path("$export-status/<int:job_id>", fhir.export_status, name="export-status"),
    path("$export-file/<int:job_id>/<str:kind>.ndjson", fhir.export_file, name="export-file"),
    path("Patient/<int:patient_id>/$everything", fhir.everything, name="everything"),
    path("<str:kind>/<str:rid>", fhir.read, name="read"),
    path("<str:kind>", fhir.search, name="search"),
]

urlpatterns = [
    path("api/v1/research/deidentified.csv", fhir.research_csv, name="research-csv"),
    path("api/v1/", include((_wrap(list(_v1_patterns), "/api/v1/"), _app), namespace=_namespace)),
    path("fhir/r4/", include((_wrap(_fhir_patterns, "/fhir/r4/"), "fhir"), namespace="fhir")),
]
