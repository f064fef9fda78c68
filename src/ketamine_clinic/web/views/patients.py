"""Patient list, registration and the chart."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone

from ketamine_clinic.domain.policy import Action, can
from ketamine_clinic.services import courses, measures, orders, outcomes
from ketamine_clinic.services.access import access_patient_by_id, note_listed, patient_queryset_for
from ketamine_clinic.services.errors import ServiceError
from ketamine_clinic.services.patients import do_create_patient, same_person
from ketamine_clinic.storage.models import Patient
from ketamine_clinic.web import presenters
from ketamine_clinic.web.forms import PatientForm
from ketamine_clinic.web.permissions import actor, requires


@requires(Action.VIEW_CHART)
def patient_list(request: HttpRequest) -> HttpResponse:
    query = request.GET.get("q", "").strip()
    patients = patient_queryset_for(actor(request), action=Action.VIEW_CHART)
    if query:
        patients = patients.filter(
            Q(family_name__icontains=query) | Q(given_name__icontains=query) | Q(mrn__iexact=query)
        )
    page = Paginator(patients.order_by("family_name", "given_name"), 25).get_page(request.GET.get("page"))
    note_listed(p.pk for p in page)
    template = "patients/_rows.html" if request.htmx else "patients/list.html"  # type: ignore[attr-defined]
    return render(request, template, {"page": page, "q": query})


@requires(Action.MANAGE_SCHEDULE)
def patient_new(request: HttpRequest) -> HttpResponse:
    form = PatientForm(request.POST or None)
    twins: list[Patient] = []
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        different = data.pop("different_person")
        try:
            patient = do_create_patient(
                mrn="", at=timezone.now(), acting_user=actor(request), confirm_not_duplicate=different, **data
            )
        except ServiceError as exc:
            form.add_error(None, exc.message)
            if exc.field == "duplicate":  # the next submit, if the user confirms, registers anyway
                form.fields["different_person"].widget = forms.CheckboxInput()
                twins = same_person(data["given_name"], data["family_name"], data["birth_date"])
        else:
            messages.success(request, f"Registered {patient.full_name} ({patient.mrn}).")
            if can(actor(request).role, Action.VIEW_CHART):
                return redirect("patient-chart", patient_id=patient.pk)
            return redirect("desk-home")
    return render(request, "patients/new.html", {"form": form, "twins": twins})


@requires(Action.VIEW_CHART)
def patient_chart(request: HttpRequest, patient_id: int) -> HttpResponse:
    patient = access_patient_by_id(actor(request), patient_id)
    overview = outcomes.patient_overview(patient)
    return render(
        request,
        "patients/chart.html",
        {
            "patient": patient,
            "o": overview,
            "score_chart": presenters.score_chart(overview),
            "may": {a.value: can(actor(request).role, a) for a in Action}
            | {"verify_order": orders.may_verify(actor(request))},
            "today_iso": timezone.localdate().isoformat(),
            "rating_forms": [measures.instrument_form(c) for c in measures.CLINICIAN_RATINGS],
            "decision_due": overview.course is not None and courses.decision_due(overview.course),
            "first_open_visit_id": next(
                (v.pk for v in overview.visits if v.status == "scheduled" and v.pk not in overview.sessions), None
            ),
            "next_visit_id": next(
                (v.pk for v in overview.visits if v.status == "scheduled" and v.pk not in overview.orders), None
            ),
        },
    )


@requires(Action.RECORD_ASSESSMENT)
def record_rating(request: HttpRequest, patient_id: int) -> HttpResponse:
    """A clinician-rated scale outside a session (MADRS, HAM-D 17, BPRS+, CADSS)."""
    patient = access_patient_by_id(actor(request), patient_id, action=Action.RECORD_ASSESSMENT)
    if request.method == "POST":
        code = request.POST.get("instrument", "")
        if code not in measures.CLINICIAN_RATINGS:
            messages.error(request, f"instrument must be one of: {', '.join(measures.CLINICIAN_RATINGS)}")
        else:
            meta = measures.instrument_form(code)
            raw = [request.POST.get(item["name"], "") for item in meta["items"]]
            answers = [int(a) if a.strip().lstrip("-").isdigit() else None for a in raw]
            try:
                measures.do_record_assessment(patient, code, answers, at=timezone.now(), acting_user=actor(request))
            except ServiceError as exc:
                messages.error(request, exc.message)
            else:
                messages.success(request, f"{meta['name']} recorded.")
    return redirect("patient-chart", patient_id=patient.pk)
