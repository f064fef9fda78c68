"""Global patient search, the role's task queue, and the front desk's patient page
(demographics, edited with an audit row; visits)."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone

from ketamine_clinic.domain.policy import Action, can
from ketamine_clinic.services import navigation, patients
from ketamine_clinic.services.access import access_patient_by_id
from ketamine_clinic.services.errors import ServiceError
from ketamine_clinic.web.forms import PatientEditForm
from ketamine_clinic.web.permissions import actor, requires


@requires(Action.VIEW_DEMOGRAPHICS)
def search(request: HttpRequest) -> HttpResponse:
    """Patients by name, MRN or date of birth; a clinician opens the chart, the front desk
    the patient's desk page."""
    query = request.GET.get("q", "").strip()[:80]
    rows = navigation.search_patients(actor(request), query)
    chart = can(actor(request).role, Action.VIEW_CHART)
    return render(request, "navigation/search.html", {"q": query, "rows": rows, "chart": chart})


@requires(Action.VIEW_DEMOGRAPHICS)
def tasks(request: HttpRequest) -> HttpResponse:
    rows = [
        {"task": t, "url": reverse(t.url_name, args=t.args)}
        for t in navigation.my_tasks(actor(request), at=timezone.now())
    ]
    return render(request, "navigation/tasks.html", {"rows": rows})


@requires(Action.MANAGE_SCHEDULE)
def desk_patient(request: HttpRequest, patient_id: int) -> HttpResponse:
    patient = access_patient_by_id(actor(request), patient_id, action=Action.MANAGE_SCHEDULE)
    initial = {k: getattr(patient, k) for k in ("given_name", "family_name", "birth_date", "sex", "phone", "email")}
    if request.method == "POST" and request.POST.get("op") == "invite":
        try:
            user = patients.do_invite_to_portal(
                patient,
                username=request.POST.get("username", ""),
                base_url=request.build_absolute_uri("/"),
                at=timezone.now(),
                acting_user=actor(request),
            )
        except ServiceError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, f"Invitation sent to the e-mail on file; the user name is {user.username}.")
        return redirect("desk-patient", patient_id=patient.pk)
    form = PatientEditForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            patients.do_update_patient(patient, **form.cleaned_data, at=timezone.now(), acting_user=actor(request))
        except ServiceError as exc:
            form.add_error(exc.field if exc.field in form.fields else None, exc.message)
        else:
            messages.success(request, "Demographics saved.")
            return redirect("desk-patient", patient_id=patient.pk)
    visits = patient.visits.select_related("chair").order_by("-starts_at")[:20]
    suggested = f"{patient.given_name}.{patient.family_name}".lower().replace(" ", "")[:30]
    return render(
        request,
        "navigation/desk_patient.html",
        {
            "patient": patient,
            "form": form,
            "visits": visits,
            "suggested_username": suggested,
            "duplicates": patients.possible_duplicates(patient),
        },
    )
