"""Intake and the eligibility decision.

Recording an intake runs the eligibility screen (``domain.eligibility``) and stores its
result with its reasons; the prescriber then records a decision, which may differ from
the screen only with a note.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db import transaction

from ketamine_clinic.domain.eligibility import CONTRAINDICATIONS, screen_eligibility
from ketamine_clinic.domain.eligibility import Intake as DomainIntake
from ketamine_clinic.domain.policy import Action
from ketamine_clinic.services import audit
from ketamine_clinic.services._common import require
from ketamine_clinic.services.clinic import clinic_rules
from ketamine_clinic.services.errors import Conflict, InvalidInput
from ketamine_clinic.services.vitals import check_vitals
from ketamine_clinic.storage.models import EligibilityDecision, EventType, Intake, Patient, User

__all__ = [
    "Screen",
    "WEIGHT_RANGE_KG",
    "baseline_vitals",
    "contraindication_questions",
    "do_decide_eligibility",
    "do_record_intake",
    "eligibility_screen",
    "latest_intake",
]

WEIGHT_RANGE_KG = (30, 250)
HEIGHT_RANGE_CM = (100, 230)


def _decimal(value: Any, field: str, low: float, high: float, unit: str) -> Decimal:
    try:
        number = Decimal(str(value))
    except (InvalidOperation, ValueError):
        raise InvalidInput(f"{field.replace('_', ' ')} must be from {low} to {high} {unit}", field=field) from None
    if not low <= number <= high:
        raise InvalidInput(f"{field.replace('_', ' ')} must be from {low} to {high} {unit}", field=field)
    return number.quantize(Decimal("0.1"))


def do_record_intake(
    patient: Patient,
    *,
    diagnoses: list[str],
    failed_trials: list[dict[str, Any]],
    contraindications: dict[str, bool],
    weight_kg: Any,
    height_cm: Any = None,
    vitals: dict[str, Any],
    pregnant: bool,
    consent_given: bool,
    at: datetime,
    acting_user: User,
) -> Intake:
    """Record an intake and its eligibility screen. Validation names the field and range."""
    require(acting_user, Action.EDIT_INTAKE, "Your role may not record an intake.")
    weight = _decimal(weight_kg, "weight_kg", *WEIGHT_RANGE_KG, "kg")
    height = None if height_cm in (None, "") else _decimal(height_cm, "height_cm", *HEIGHT_RANGE_CM, "cm")
    clean_vitals = check_vitals(vitals)
    if not diagnoses:
        raise InvalidInput("choose at least one diagnosis", field="diagnoses")
    screen = eligibility_screen(
        patient=patient,
        diagnoses=diagnoses,
        failed_trials=failed_trials,
        contraindications=contraindications,
        weight_kg=float(weight),
        vitals=clean_vitals,
        pregnant=pregnant,
        consent_given=consent_given,
        at=at,
    )
    with transaction.atomic():
        intake = Intake.objects.create(
            patient=patient,
            recorded_by=acting_user,
            recorded_at=at,
            diagnoses=list(diagnoses),
            failed_trials=list(failed_trials),
            contraindications=dict(contraindications),
            weight_kg=weight,
            height_cm=height,
            pregnant=pregnant,
            consent_given=consent_given,
            screen_status=screen.status,
            screen_reasons=screen.reasons,
            **clean_vitals,
        )
        audit.record(
            EventType.INTAKE_RECORDED,
            actor=acting_user,
            patient=patient,
            subject=intake,
            at=at,
            new={"screen": screen.status, "weight_kg": str(weight), "diagnoses": list(diagnoses)},
        )
    return intake


def do_decide_eligibility(
    intake: Intake, *, decision: str, note: str, at: datetime, acting_user: User
) -> EligibilityDecision:
    """The prescriber's decision. Overriding the screen needs a note of at least 10 characters;
    a "not eligible" screen cannot be overridden to eligible (absolute contraindication)."""
    require(acting_user, Action.DECIDE_ELIGIBILITY, "Only a prescriber decides eligibility.")
    if decision not in {"eligible", "not_eligible"}:
        raise InvalidInput("decision must be eligible or not_eligible", field="decision")
    note = note.strip()
    if intake.screen_status == "not_eligible" and decision == "eligible":
        raise Conflict(
            "The screen found an absolute contraindication; the patient cannot be made eligible.",
            field="decision",
        )
    if decision != intake.screen_status and len(note) < 10:
        raise InvalidInput(
            "a decision that differs from the screen needs a note (10 characters or more)",
            field="note",
        )
    with transaction.atomic():
        row = EligibilityDecision.objects.create(
            patient=intake.patient,
            intake=intake,
            decision=decision,
            note=note,
            decided_by=acting_user,
            decided_at=at,
        )
        audit.record(
            EventType.ELIGIBILITY_DECIDED,
            actor=acting_user,
            patient=intake.patient,
            subject=row,
            at=at,
            new={"decision": decision, "screen": intake.screen_status, "note": note},
        )
    return row


def latest_intake(patient: Patient) -> Intake | None:
    return Intake.objects.filter(patient=patient).order_by("-recorded_at", "-id").first()


def baseline_vitals(patient: Patient) -> dict[str, int | None]:
    intake = latest_intake(patient)
    if intake is None:
        return {}
    return {
        "systolic_mmhg": intake.systolic_mmhg,
        "diastolic_mmhg": intake.diastolic_mmhg,
        "heart_rate_bpm": intake.heart_rate_bpm,
        "spo2_percent": intake.spo2_percent,
        "respiratory_rate": intake.respiratory_rate,
    }


@dataclass(frozen=True)
class Screen:
    status: str
    reasons: list[dict[str, str]]


def contraindication_questions() -> list[tuple[str, str]]:
    return [(c.code, c.text) for c in CONTRAINDICATIONS]


def eligibility_screen(
    *,
    patient: Patient,
    diagnoses: list[str],
    failed_trials: list[dict[str, Any]],
    contraindications: dict[str, bool],
    weight_kg: float,
    vitals: dict[str, Any],
    pregnant: bool,
    consent_given: bool,
    at: datetime,
) -> Screen:
    try:
        data = DomainIntake(
            tuple(diagnoses),
            tuple(failed_trials),
            contraindications,
            patient.birth_date,
            weight_kg,
            pregnant,
            consent_given,
            vitals,
        )
    except ValueError as exc:
        raise InvalidInput(str(exc), field="diagnoses") from None
    result = screen_eligibility(data, on=at.date(), rules=clinic_rules())
    return Screen(result.status, [f.as_dict() for f in result.findings])
