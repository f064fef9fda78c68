"""The clinic's rows as FHIR R4 resources (dicts), each validated with ``fhir.resources``.

``patient_resources(patient)`` builds every resource of one patient's record in a fixed
number of queries; read, search, ``$everything`` and bulk export all start from it, so
each answers the same resources. Ids are the row's id, with a prefix where one row gives
several resources (a vital-sign row gives ``bp-``, ``hr-``, ``spo2-`` and ``rr-``
Observations; an intake gives ``wt-``/``ht-`` Observations and ``<intake>-<ICD code>``
Conditions; a score gives ``score-`` Observations). Mapping: docs/decisions/0026-fhir-r4-mapping.md.

Errors: ``FhirInvalid`` (a ``ValueError``) when a built resource does not validate, which
is a bug in this module, never the caller's input.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from fhir.resources.R4B import get_fhir_model_class

from ketamine_clinic.api.fhir import codes as c
from ketamine_clinic.domain.billing import diagnosis_codes
from ketamine_clinic.domain.chairside import side_effect_label
from ketamine_clinic.domain.instruments import INSTRUMENTS
from ketamine_clinic.storage.models import (
    Alert,
    Assessment,
    InfusionSession,
    Intake,
    Order,
    Patient,
    PumpEvent,
    SideEffect,
    VitalSign,
)

__all__ = ["RESOURCE_TYPES", "FhirInvalid", "patient_resources", "validated"]

Resource = dict[str, Any]

#: Every type this server emits, in the order ``$everything`` and exports list them.
RESOURCE_TYPES = (
    "Patient",
    "Condition",
    "Consent",
    "Encounter",
    "MedicationRequest",
    "MedicationAdministration",
    "Observation",
    "QuestionnaireResponse",
    "AdverseEvent",
    "Flag",
)


class FhirInvalid(ValueError):
    """A resource built here failed validation against the FHIR model."""


def validated(resource: Resource) -> Resource:
    """``resource`` unchanged, after ``fhir.resources`` (R4B models) accepts it."""
    model = get_fhir_model_class(resource["resourceType"])
    try:
        model.model_validate(resource)
    except Exception as exc:  # pydantic's ValidationError and fhir_core's own errors
        raise FhirInvalid(f"{resource['resourceType']}/{resource.get('id')}: {exc}") from exc
    return resource


def _when(value: datetime | date | None) -> str | None:
    return value.isoformat() if value is not None else None


def _ref(kind: str, pk: Any) -> dict[str, str]:
    return {"reference": f"{kind}/{pk}"}


def _qty(value: Any, unit: str) -> dict[str, Any]:
    number = float(value) if isinstance(value, Decimal) else value
    return {"value": number, "unit": unit, "system": c.UCUM, "code": unit}


def patient(p: Patient) -> Resource:
    out: Resource = {
        "resourceType": "Patient",
        "id": str(p.pk),
        "identifier": [
            {
                "use": "usual",
                "type": {"coding": [c.coding("http://terminology.hl7.org/CodeSystem/v2-0203", "MR")]},
                "system": f"{c.LOCAL}:mrn",
                "value": p.mrn,
            }
        ],
        "name": [{"use": "official", "family": p.family_name, "given": [p.given_name]}],
        "gender": p.sex if p.sex in ("female", "male", "other") else "unknown",
        "birthDate": p.birth_date.isoformat(),
    }
    telecom = [{"system": "phone", "value": p.phone}] if p.phone else []
    telecom += [{"system": "email", "value": p.email}] if p.email else []
    if telecom:
        out["telecom"] = telecom
    return out


def conditions(p: Patient, intake: Intake | None) -> list[Resource]:
    """The latest intake's diagnoses in ICD-10-CM [S73][S73b] (``domain.billing``)."""
    if intake is None:
        return []
    return [
        {
            "resourceType": "Condition",
            "id": f"{intake.pk}-{code}",
            "clinicalStatus": c.concept("http://terminology.hl7.org/CodeSystem/condition-clinical", "active"),
            "verificationStatus": c.concept("http://terminology.hl7.org/CodeSystem/condition-ver-status", "confirmed"),
            "category": [c.concept("http://terminology.hl7.org/CodeSystem/condition-category", "problem-list-item")],
            "code": c.concept(c.ICD10CM, code, text),
            "subject": _ref("Patient", p.pk),
            "recordedDate": _when(intake.recorded_at),
        }
        for code, text in diagnosis_codes(list(intake.diagnoses))
    ]


def consent(p: Patient, intake: Intake | None) -> list[Resource]:
    if intake is None or not intake.consent_given:
        return []
    return [
        {
            "resourceType": "Consent",
            "id": str(intake.pk),
            "status": "active",
            "scope": c.concept("http://terminology.hl7.org/CodeSystem/consentscope", "treatment", "Treatment"),
            "category": [{"text": "Consent to ketamine treatment, recorded at intake"}],
            "patient": _ref("Patient", p.pk),
            "dateTime": _when(intake.recorded_at),
        }
    ]


def body_measures(p: Patient, intake: Intake | None) -> list[Resource]:
    if intake is None:
        return []
    out = [_vital(p, f"wt-{intake.pk}", "weight_kg", intake.recorded_at, intake.weight_kg)]
    if intake.height_cm is not None:
        out.append(_vital(p, f"ht-{intake.pk}", "height_cm", intake.recorded_at, intake.height_cm))
    return out


def _vital(p: Patient, rid: str, field: str, at: datetime, value: Any, encounter: int | None = None) -> Resource:
    loinc, display, unit = c.VITALS[field]
    codings = [c.coding(c.LOINC, loinc, display)]
    if field == "spo2_percent":
        extra, extra_display, _ = c.VITALS["spo2_pulse_oximetry"]
        codings.append(c.coding(c.LOINC, extra, extra_display))
    out: Resource = {
        "resourceType": "Observation",
        "id": rid,
        "status": "final",
        "category": [{"coding": [c.coding(c.OBS_CATEGORY, "vital-signs", "Vital Signs")]}],
        "code": {"coding": codings, "text": display},
        "subject": _ref("Patient", p.pk),
        "effectiveDateTime": _when(at),
        "valueQuantity": _qty(value, unit),
    }
    if encounter is not None:
        out["encounter"] = _ref("Encounter", encounter)
    return out


def vital_signs(p: Patient, v: VitalSign) -> list[Resource]:
    """One VitalSign row as the profile's Observations: a BP panel with its two components,
    heart rate, SpO2 and (when taken) respiratory rate [S72][S64]."""
    status = "amended" if v.amends_id else "final"
    bp_loinc, bp_display, _ = c.VITALS["blood_pressure"]
    components = []
    for field in ("systolic_mmhg", "diastolic_mmhg"):
        loinc, display, unit = c.VITALS[field]
        components.append({"code": c.concept(c.LOINC, loinc, display), "valueQuantity": _qty(getattr(v, field), unit)})
    bp: Resource = {
        "resourceType": "Observation",
        "id": f"bp-{v.pk}",
        "status": status,
        "category": [{"coding": [c.coding(c.OBS_CATEGORY, "vital-signs", "Vital Signs")]}],
        "code": c.concept(c.LOINC, bp_loinc, bp_display, "Blood pressure"),
        "subject": _ref("Patient", p.pk),
        "encounter": _ref("Encounter", v.session_id),
        "effectiveDateTime": _when(v.at),
        "component": components,
    }
    out = [bp]
    for prefix, field in (("hr", "heart_rate_bpm"), ("spo2", "spo2_percent"), ("rr", "respiratory_rate")):
        value = getattr(v, field)
        if value is not None:
            obs = _vital(p, f"{prefix}-{v.pk}", field, v.at, value, v.session_id)
            obs["status"] = status
            out.append(obs)
    return out


def encounter(p: Patient, s: InfusionSession, route: str) -> Resource:
    """Each infusion (or nasal-spray) session is one ambulatory Encounter."""
    finished = s.status in ("discharged", "closed")
    end = s.discharged_at or s.closed_at
    period: dict[str, str] = {"start": s.opened_at.isoformat()}
    if finished and end is not None:
        period["end"] = end.isoformat()
    return {
        "resourceType": "Encounter",
        "id": str(s.pk),
        "status": "finished" if finished else "in-progress",
        "class": c.coding("http://terminology.hl7.org/CodeSystem/v3-ActCode", "AMB", "ambulatory"),
        "type": [{"text": "esketamine nasal spray session" if route == "nasal" else "ketamine infusion session"}],
        "subject": _ref("Patient", p.pk),
        "period": period,
    }


def medication_request(p: Patient, o: Order) -> Resource:
    status = "cancelled" if o.cancelled_reason else ("active" if o.verified_at else "on-hold")
    if o.route == "nasal":
        dose_and_rate = [{"doseQuantity": _qty(o.dose_mg, "mg")}]
        text = f"esketamine {o.dose_mg} mg nasal ({o.devices} devices of 28 mg)"
    else:
        dose_and_rate = [
            {"doseQuantity": _qty(o.dose_mg_per_kg, "mg/kg"), "rateQuantity": _qty(o.rate_ml_per_h, "mL/h")}
        ]
        text = (
            f"ketamine {o.dose_mg_per_kg} mg/kg = {o.dose_mg} mg IV over {o.duration_min} min at {o.rate_ml_per_h} mL/h"
        )
    return {
        "resourceType": "MedicationRequest",
        "id": str(o.pk),
        "status": status,
        "intent": "order",
        "medicationCodeableConcept": c.medication(o.route, float(o.dose_mg)),
        "subject": _ref("Patient", p.pk),
        "authoredOn": _when(o.signed_at),
        "dosageInstruction": [
            {
                "text": text,
                "route": {"text": "nasal" if o.route == "nasal" else "intravenous"},
                "doseAndRate": dose_and_rate,
            }
        ],
    }


_PUMP_STATUS = {"start": "in-progress", "rate": "in-progress", "resume": "in-progress", "pause": "on-hold"}


def medication_administration(p: Patient, e: PumpEvent, s: InfusionSession, o: Order) -> Resource:
    """A pump event (start, rate change, pause, resume, stop) or a nasal device, with its
    rate or dose; the stop carries the session's administered total when recorded."""
    dosage: Resource = {"text": e.get_kind_display()}
    if e.kind == "device":
        dosage["dose"] = _qty(28, "mg")
    else:
        dosage["rateQuantity"] = _qty(e.rate_ml_per_h, "mL/h")
        if e.kind == "stop" and s.administered_mg is not None:
            dosage["dose"] = _qty(s.administered_mg, "mg")
    return {
        "resourceType": "MedicationAdministration",
        "id": str(e.pk),
        "status": _PUMP_STATUS.get(e.kind, "completed"),
        "medicationCodeableConcept": c.medication(o.route, float(o.dose_mg)),
        "subject": _ref("Patient", p.pk),
        "context": _ref("Encounter", s.pk),
        "effectiveDateTime": _when(e.at),
        "request": _ref("MedicationRequest", o.pk),
        "dosage": dosage,
    }


def _instrument_concept(code: str) -> dict[str, object]:
    inst = INSTRUMENTS.get(code)
    name = inst.name if inst else code
    if inst and inst.loinc_total:
        return c.concept(c.LOINC, inst.loinc_total, f"{name} total score", f"{name} total score")
    return c.local("instrument", code, f"{name} total score")


def questionnaire_response(p: Patient, a: Assessment) -> Resource:
    items = []
    for number, answer in enumerate(a.answers, start=1):
        item: Resource = {"linkId": str(number)}
        if answer is not None:
            item["answer"] = [{"valueInteger": int(answer)}]
        items.append(item)
    out: Resource = {
        "resourceType": "QuestionnaireResponse",
        "id": str(a.pk),
        "questionnaire": f"{c.LOCAL}:questionnaire:{a.instrument}",
        "status": "completed",
        "subject": _ref("Patient", p.pk),
        "authored": _when(a.at),
    }
    if items:
        out["item"] = items
    return out


def score(p: Patient, a: Assessment) -> Resource:
    """The questionnaire's total as a survey Observation (LOINC where verified: PHQ-9 44261-6,
    GAD-7 70274-6 [S61][S61c]; the clinic's own code otherwise)."""
    out: Resource = {
        "resourceType": "Observation",
        "id": f"score-{a.pk}",
        "status": "final",
        "category": [{"coding": [c.coding(c.OBS_CATEGORY, "survey", "Survey")]}],
        "code": _instrument_concept(a.instrument),
        "subject": _ref("Patient", p.pk),
        "effectiveDateTime": _when(a.at),
        "valueInteger": a.total,
        "interpretation": [{"text": a.band}] if a.band else [],
    }
    if a.answers:
        out["derivedFrom"] = [_ref("QuestionnaireResponse", a.pk)]
    if not out["interpretation"]:
        del out["interpretation"]
    return out


_SEVERITY = "http://terminology.hl7.org/CodeSystem/adverse-event-severity"


def adverse_event(p: Patient, e: SideEffect) -> Resource:
    label = side_effect_label(e.code)
    return {
        "resourceType": "AdverseEvent",
        "id": str(e.pk),
        "actuality": "actual",
        "event": {**c.local("side-effect", e.code, label), "text": f"{label}: {e.note}" if e.note else label},
        "subject": _ref("Patient", p.pk),
        "encounter": _ref("Encounter", e.session_id),
        "date": _when(e.at),
        "recordedDate": _when(e.recorded_at),
        "severity": c.concept(_SEVERITY, e.severity, e.severity.capitalize()),
    }


def flag(p: Patient, a: Alert) -> Resource:
    """An open suicide-risk alert as an active Flag: a prescriber's assessment closes it."""
    return {
        "resourceType": "Flag",
        "id": str(a.pk),
        "status": "active",
        "category": [c.concept("http://terminology.hl7.org/CodeSystem/flag-category", "clinical", "Clinical")],
        "code": {**c.local("alert", a.kind, "Suicide risk"), "text": a.message},
        "subject": _ref("Patient", p.pk),
        "period": {"start": a.raised_at.isoformat()},
    }


def patient_resources(p: Patient) -> dict[str, list[Resource]]:
    """Every FHIR resource of ``p``'s record by type, each validated (a fixed number of queries)."""
    intake = p.intakes.order_by("-recorded_at", "-id").first()
    sessions = list(InfusionSession.objects.filter(patient=p).select_related("order").order_by("opened_at", "id"))
    by_session = {s.pk: s for s in sessions}
    orders = list(Order.objects.filter(patient=p).order_by("signed_at", "id"))
    assessments = list(Assessment.objects.filter(patient=p).order_by("at", "id"))
    out: dict[str, list[Resource]] = {t: [] for t in RESOURCE_TYPES}
    out["Patient"] = [patient(p)]
    out["Condition"] = conditions(p, intake)
    out["Consent"] = consent(p, intake)
    out["Encounter"] = [encounter(p, s, s.order.route) for s in sessions]
    out["MedicationRequest"] = [medication_request(p, o) for o in orders]
    out["MedicationAdministration"] = [
        medication_administration(p, e, by_session[e.session_id], by_session[e.session_id].order)
        for e in PumpEvent.objects.filter(session__patient=p).order_by("at", "id")
    ]
    observations = body_measures(p, intake)
    for v in VitalSign.objects.filter(session__patient=p).order_by("at", "id"):
        observations += vital_signs(p, v)
    observations += [score(p, a) for a in assessments]
    out["Observation"] = observations
    out["QuestionnaireResponse"] = [questionnaire_response(p, a) for a in assessments if a.answers]
    out["AdverseEvent"] = [
        adverse_event(p, e) for e in SideEffect.objects.filter(session__patient=p).order_by("at", "id")
    ]
    out["Flag"] = [
        flag(p, a)
        for a in Alert.objects.filter(patient=p, kind="suicide_risk", acknowledged_at__isnull=True).order_by(
            "raised_at"
        )
    ]
    check: Callable[[Resource], Resource] = validated
    return {kind: [check(r) for r in rows] for kind, rows in out.items()}
