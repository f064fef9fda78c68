"""The pre-procedure record page and the on-screen consent page."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone

from ketamine_clinic.domain.policy import Action, can
from ketamine_clinic.domain.preprocedure import (
    ASA_CLASSES,
    CONSENT_DOCUMENTS,
    ICD10_DIAGNOSES,
    INTERACTION_CLASSES,
    consent_for_route,
)
from ketamine_clinic.services import preprocedure
from ketamine_clinic.services.access import access_patient_by_id
from ketamine_clinic.services.errors import InvalidInput, ServiceError
from ketamine_clinic.storage.models import Course, PreProcedureRecord
from ketamine_clinic.web.permissions import actor, requires

ALLERGY_ROWS = 4
MEDICATION_ROWS = 6


def _when(value: str, field: str) -> datetime | None:
    """A ``datetime-local`` value in the clinic's time zone, or ``None`` when empty."""
    value = value.strip()
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise InvalidInput(f"{field.replace('_', ' ')} must be a date and time", field=field) from None
    return timezone.make_aware(parsed) if timezone.is_naive(parsed) else parsed


def _initial(record: PreProcedureRecord | None) -> dict[str, Any]:
    """The form's values from the current record (every field of the last version)."""
    if record is None:
        return {"allergies": [{}] * ALLERGY_ROWS, "medications": [{}] * MEDICATION_ROWS, "diagnoses": []}
    meds = [{**m, "class": (m.get("classes") or [""])[0]} for m in record.medications]

    def local(value: datetime | None) -> str:
        return timezone.localtime(value).strftime("%Y-%m-%dT%H:%M") if value else ""

    return {
        "allergies": record.allergies + [{}] * max(ALLERGY_ROWS - len(record.allergies), 1),
        "no_known_allergies": record.no_known_allergies,
        "medications": meds + [{}] * max(MEDICATION_ROWS - len(meds), 1),
        "asa_class": str(record.asa_class),
        "airway_note": record.airway_note,
        "npo_solids_since": local(record.npo_solids_since),
        "npo_clear_since": local(record.npo_clear_since),
        "escort_name": record.escort_name,
        "escort_phone": record.escort_phone,
        "diagnoses": record.diagnoses,
    }


def _posted(request: HttpRequest) -> dict[str, Any]:
    post = request.POST
    allergy_rows = sum(1 for k in post if k.startswith("allergy_substance_"))
    med_rows = sum(1 for k in post if k.startswith("med_name_"))
    return {
        "allergies": [
            {"substance": post.get(f"allergy_substance_{i}", ""), "reaction": post.get(f"allergy_reaction_{i}", "")}
            for i in range(min(max(allergy_rows, ALLERGY_ROWS), 20))
        ],
        "no_known_allergies": post.get("no_known_allergies") == "on",
        "medications": [
            {
                "name": post.get(f"med_name_{i}", ""),
                "dose": post.get(f"med_dose_{i}", ""),
                "class": post.get(f"med_class_{i}", ""),
            }
            for i in range(min(max(med_rows, MEDICATION_ROWS), 30))
        ],
        "asa_class": post.get("asa_class", ""),
        "airway_note": post.get("airway_note", ""),
        "npo_solids_since": post.get("npo_solids_since", ""),
        "npo_clear_since": post.get("npo_clear_since", ""),
        "escort_name": post.get("escort_name", ""),
        "escort_phone": post.get("escort_phone", ""),
        "diagnoses": post.getlist("diagnoses"),
    }


@requires(Action.VIEW_CHART)
def pre_procedure(request: HttpRequest, patient_id: int) -> HttpResponse:
    """Allergies, medications with their interaction classes, ASA and airway, fasting,
    escort, ICD-10-CM diagnoses; each save is a new version."""
    user = actor(request)
    patient = access_patient_by_id(user, patient_id)
    record = preprocedure.current_record(patient)
    values, error, field, status = _initial(record), "", "", 200
    if request.method == "POST":
        patient = access_patient_by_id(user, patient_id, action=Action.RECORD_PRE_PROCEDURE)
        values = _posted(request)
        try:
            preprocedure.do_record_pre_procedure(
                patient,
                allergies=values["allergies"],
                no_known_allergies=values["no_known_allergies"],
                medications=values["medications"],
                asa_class=values["asa_class"],
                airway_note=values["airway_note"],
                npo_solids_since=_when(values["npo_solids_since"], "npo_solids_since"),
                npo_clear_since=_when(values["npo_clear_since"], "npo_clear_since"),
                escort_name=values["escort_name"],
                escort_phone=values["escort_phone"],
                diagnoses=values["diagnoses"],
                at=timezone.now(),
                acting_user=user,
            )
        except ServiceError as exc:
            error, field, status = exc.message, exc.field or "", 422
        else:
            messages.success(request, "Pre-procedure record saved (a new version; earlier ones are kept).")
            return redirect("pre-procedure", patient_id=patient.pk)
    versions = PreProcedureRecord.objects.filter(patient=patient).select_related("recorded_by").order_by("-at")[:10]
    context = {
        "patient": patient,
        "record": record,
        "values": values,
        "error": error,
        "error_field": field,
        "asa_classes": ASA_CLASSES.items(),
        "interaction_classes": INTERACTION_CLASSES.items(),
        "diagnoses": ICD10_DIAGNOSES.items(),
        "summary": preprocedure.summary(patient),
        "versions": versions,
        "may_edit": can(user.role, Action.RECORD_PRE_PROCEDURE),
    }
    return render(request, "clinical/pre_procedure.html", context, status=status)


@requires(Action.VIEW_CHART)
def consent(request: HttpRequest, patient_id: int) -> HttpResponse:
    """The consent text of the patient's treatment route, signed on screen by the patient
    typing their full name, witnessed by the clinician logged in."""
    user = actor(request)
    patient = access_patient_by_id(user, patient_id)
    course = Course.objects.filter(patient=patient).order_by("-planned_at").first()
    route = "nasal" if course is not None and course.protocol.startswith("esketamine") else "iv"
    code = request.GET.get("document") or request.POST.get("document") or consent_for_route(route).code
    document = CONSENT_DOCUMENTS.get(code) or consent_for_route(route)
    error, field, status = "", "", 200
    if request.method == "POST":
        patient = access_patient_by_id(user, patient_id, action=Action.RECORD_PRE_PROCEDURE)
        try:
            preprocedure.do_sign_consent(
                patient,
                request.POST.get("document", ""),
                version=request.POST.get("version", ""),
                signed_name=request.POST.get("signed_name", ""),
                read_and_understood=request.POST.get("read_and_understood") == "on",
                at=timezone.now(),
                acting_user=user,
            )
        except ServiceError as exc:
            error, field, status = exc.message, exc.field or "", 422
        else:
            messages.success(request, f"Consent signed: {document.title}, version {document.version}.")
            return redirect("consent-sign", patient_id=patient.pk)
    context = {
        "patient": patient,
        "document": document,
        "documents": CONSENT_DOCUMENTS.values(),
        "signed": [
            (d, row) for d in CONSENT_DOCUMENTS.values() if (row := preprocedure.latest_consent(patient, d.code))
        ],
        "error": error,
        "error_field": field,
        "posted": request.POST if request.method == "POST" else {},
        "may_sign": can(user.role, Action.RECORD_PRE_PROCEDURE),
    }
    return render(request, "clinical/consent.html", context, status=status)
