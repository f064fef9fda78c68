"""Each role's home page."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from ketamine_clinic.domain.policy import Action, Role
from ketamine_clinic.services.access import patient_queryset_for
from ketamine_clinic.web.permissions import actor, requires

HOME_BY_ROLE: dict[str, str] = {
    Role.ADMIN: "admin-home",
    Role.PRESCRIBER: "clinic-home",
    Role.CRNA: "clinic-home",
    Role.RN: "clinic-home",
    Role.FRONT_DESK: "desk-home",
    Role.PATIENT: "me-home",
}


@login_required
def home(request: HttpRequest) -> HttpResponse:
    return redirect(HOME_BY_ROLE.get(getattr(request.user, "role", ""), "login"))


@requires(Action.VIEW_CHART)
def clinic_home(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "clinic/home.html",
        {
            "patient_count": patient_queryset_for(actor(request)).count(),
        },
    )


@requires(Action.VIEW_OWN_RESULTS)
def me_home(request: HttpRequest) -> HttpResponse:
    record = patient_queryset_for(actor(request)).first()
    return render(request, "me/home.html", {"record": record})
