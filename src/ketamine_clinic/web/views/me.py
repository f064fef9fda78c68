"""The patient's own questionnaires."""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone

from ketamine_clinic.domain.policy import Action
from ketamine_clinic.services import clinic, measures
from ketamine_clinic.services.access import note_listed, patient_queryset_for
from ketamine_clinic.services.errors import ServiceError
from ketamine_clinic.web.permissions import actor, requires


@requires(Action.COMPLETE_OWN_QUESTIONNAIRE)
def questionnaire(request: HttpRequest, code: str) -> HttpResponse:
    if code not in measures.PATIENT_INSTRUMENTS:
        raise Http404("No such questionnaire.")
    record = patient_queryset_for(actor(request)).first()
    if record is None:
        raise Http404("No record.")
    note_listed([record.pk])
    meta = measures.instrument_form(code)
    errors: dict[str, str] = {}
    if request.method == "POST":
        answers = [request.POST.get(item["name"]) for item in meta["items"]]
        parsed = [int(a) if a and a.lstrip("-").isdigit() else None for a in answers]
        try:
            row = measures.do_record_assessment(record, code, parsed, at=timezone.now(), acting_user=actor(request))
        except ServiceError as exc:
            errors[exc.field or ""] = exc.message
            if code == "phq9" and measures.do_flag_incomplete_phq9(
                record, parsed, at=timezone.now(), acting_user=actor(request)
            ):
                # item 9 is acted on even though the rest is incomplete
                return render(
                    request,
                    "me/crisis.html",
                    {"meta": meta, "urgent": True, "incomplete": True, "clinic_phone": clinic.clinic_phone()},
                )
        else:
            findings = measures.suicide_risk_findings(row)
            if findings:
                # Shown at once, not after a redirect: the answers are not watched in real time.
                urgent = any(f.severity == "urgent" for f in findings)
                return render(
                    request, "me/crisis.html", {"meta": meta, "urgent": urgent, "clinic_phone": clinic.clinic_phone()}
                )
            messages.success(request, "Thank you. Your answers are saved and your care team will see them.")
            return redirect("me-home")
    return render(request, "me/questionnaire.html", {"meta": meta, "errors": errors, "posted": request.POST})
