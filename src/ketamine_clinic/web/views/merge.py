"""The front desk's (or an administrator's) page to merge a duplicate registration:
choose the two records by MRN or from the duplicate flag, compare them side by side,
give a reason and confirm. The service refuses what cannot be moved safely."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse

from ketamine_clinic.domain.policy import Action, can
from ketamine_clinic.services import patients
from ketamine_clinic.services.access import access_patient_by_id, patient_queryset_for
from ketamine_clinic.services.errors import NotFound, PatientMerged, ServiceError
from ketamine_clinic.storage.models import Patient, User
from ketamine_clinic.web.permissions import actor, requires

ROLES = ("keep", "duplicate")


def _by_mrn(user: User, mrn: str) -> Patient | None:
    mrn = mrn.strip()[:20]
    return patient_queryset_for(user, action=Action.MERGE_PATIENTS).filter(mrn__iexact=mrn).first() if mrn else None


def _chosen(request: HttpRequest, data: dict[str, str]) -> tuple[dict[str, Patient], list[str]]:
    """The two records named by id (a link, the confirm form) or typed as MRNs."""
    user, found, problems = actor(request), {}, []
    for role in ROLES:
        raw = (data.get(role) or "").strip()
        try:
            if raw.isdigit():
                found[role] = access_patient_by_id(user, int(raw), action=Action.MERGE_PATIENTS)
            elif data.get(f"{role}_mrn"):
                row = _by_mrn(user, data.get(f"{role}_mrn", ""))
                if row is None:
                    raise NotFound("No such patient.")
                found[role] = access_patient_by_id(user, row.pk, action=Action.MERGE_PATIENTS)
        except PatientMerged:
            problems.append(f"The {role} record is already merged into another record.")
        except NotFound:
            problems.append(f"No active patient with that {'medical record number' if not raw else 'record'}.")
    return found, problems


@requires(Action.MERGE_PATIENTS)
def merge(request: HttpRequest) -> HttpResponse:
    """GET: choose the pair (``keep``/``duplicate`` ids, or ``keep_mrn``/``duplicate_mrn``)
    and compare them. POST: merge with the reason given."""
    data = request.POST if request.method == "POST" else request.GET
    found, problems = _chosen(request, {k: str(v) for k, v in data.items()})
    error, error_field = None, None
    if request.method == "POST" and len(found) == 2 and not problems:
        try:
            kept = patients.merge_patients(
                found["keep"], found["duplicate"], reason=request.POST.get("reason", ""), acting_user=actor(request)
            )
        except ServiceError as exc:
            error, error_field = exc.message, exc.field
        else:
            messages.success(
                request,
                f"{found['duplicate'].mrn} was merged into {kept.full_name} ({kept.mrn}); it is kept, marked merged.",
            )
            if can(actor(request).role, Action.MANAGE_SCHEDULE):
                return redirect("desk-patient", patient_id=kept.pk)
            return redirect("patient-merge")
    pair = [patients.merge_summary(found[r]) for r in ROLES if r in found] if len(found) == 2 else []
    return render(
        request,
        "navigation/merge.html",
        {
            "pair": pair,
            "found": found,
            "problems": problems,
            "error": error,
            "error_field": error_field,
            "reason": request.POST.get("reason", ""),
            "values": {f"{r}_mrn": data.get(f"{r}_mrn", found[r].mrn if r in found else "") for r in ROLES},
            "swap": reverse("patient-merge") + f"?keep={found['duplicate'].pk}&duplicate={found['keep'].pk}"
            if len(found) == 2
            else "",
        },
        status=422 if error or problems else 200,
    )
