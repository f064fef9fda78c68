"""Patient list and chart."""

from __future__ import annotations

from django.core.paginator import Paginator
from django.db.models import Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from ketamine_clinic.domain.policy import Action
from ketamine_clinic.services.access import access_patient_by_id, patient_queryset_for
from ketamine_clinic.web.permissions import actor, requires


@requires(Action.VIEW_CHART)
def patient_list(request: HttpRequest) -> HttpResponse:
    query = request.GET.get("q", "").strip()
    patients = patient_queryset_for(actor(request), action=Action.VIEW_CHART)
    if query:
        patients = patients.filter(
            Q(family_name__icontains=query) | Q(given_name__icontains=query) | Q(mrn__iexact=query)
        )
    page = Paginator(patients.order_by("family_name", "given_name"), 25).get_page(
        request.GET.get("page")
    )
    template = "patients/_rows.html" if request.htmx else "patients/list.html"  # type: ignore[attr-defined]
    return render(request, template, {"page": page, "q": query})


@requires(Action.VIEW_CHART)
def patient_chart(request: HttpRequest, patient_id: int) -> HttpResponse:
    patient = access_patient_by_id(actor(request), patient_id)
    return render(request, "patients/chart.html", {"patient": patient})
