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

from ketamine_clinic.domain.body_weight import WeightEntryError, check_weight, to_kg
from ketamine_clinic.domain.eligibility import CONTRAINDICATIONS, UnknownContraindicationError, screen_eligibility
from ketamine_clinic.domain.eligibility import Intake as DomainIntake
from ketamine_clinic.domain.policy import Action, can
from ketamine_clinic.services import audit
from ketamine_clinic.services._common import lock_active_patient, require
from ketamine_clinic.services.clinic import clinic_rules
from ketamine_clinic.services.errors import Conflict, InvalidInput, NotAllowed
from ketamine_clinic.services.vitals import check_vitals
from ketamine_clinic.storage.models import EligibilityDecision, EventType, Intake, Patient, User
from ketamine_clinic.storage.prepared import Prepared

__all__ = [
    "Screen",
    "WEIGHT_RANGE_KG",
    "baseline_vitals",
    "contraindication_questions",
    "do_decide_eligibility",
    "do_record_intake",
    "do_update_weight",
    "eligibility_screen",
    "latest_intake",
    "medication_classes",
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


def _weight(weight_kg: Any, weight: Any, weight_unit: str) -> tuple[Decimal, Decimal, str]:
    """(kg, the number as entered, its unit): ``weight`` in ``weight_unit`` (kg or lb) when
    given, else ``weight_kg``; kg stored to 0.1 [S92], within the plausible range."""
    unit = weight_unit or "kg"
    raw = weight if weight not in (None, "") else weight_kg
    if unit not in ("kg", "lb"):
        raise InvalidInput("weight unit must be kg or lb", field="weight_unit")
    low, high = WEIGHT_RANGE_KG
    if unit == "lb":
        low_lb, high_lb = round(low / 0.45359237), round(high / 0.45359237)
        entered = _decimal(raw, "weight", low_lb, high_lb, "lb")
        try:
            kg = to_kg(entered, "lb")
        except WeightEntryError as exc:
            raise InvalidInput(str(exc), field="weight") from None
        return _decimal(kg, "weight", low, high, "kg"), entered, unit
    entered = _decimal(raw, "weight" if weight not in (None, "") else "weight_kg", low, high, "kg")
    return entered, entered, unit


def _confirm_plausible(
    patient: Patient, weight: Decimal, height: Decimal | None, unit: str, confirm_weight: bool
) -> list[str]:
    """The plausibility warnings for a new weight ([S11][S91]); unless ``confirm_weight``
    they refuse the entry, naming the field where the clinician confirms."""
    previous = latest_intake(patient)
    check = check_weight(
        weight,
        height_cm=height,
        previous_kg=previous.weight_kg if previous else None,
        entered_unit=unit,
        rules=clinic_rules(),
    )
    if check.needs_confirmation and not confirm_weight:
        raise InvalidInput(
            "check the weight: " + "; ".join(check.warnings) + ". Correct it, or tick the confirmation to keep it.",
            field="confirm_weight",
        )
    return list(check.warnings)


def do_record_intake(
    patient: Patient,
    *,
    diagnoses: list[str],
    failed_trials: list[dict[str, Any]],
    contraindications: dict[str, bool],
    weight_kg: Any = None,
    height_cm: Any = None,
    vitals: dict[str, Any],
    pregnant: bool,
    consent_given: bool,
    at: datetime,
    acting_user: User,
    weight: Any = None,
    weight_unit: str = "kg",
    confirm_weight: bool = False,
) -> Intake:
    """Record an intake and its eligibility screen. Validation names the field and range.
    The weight is entered in kg or lb (stored in kg [S92]); height is required (BMI [S91]);
    a weight far from the previous one or at an implausible BMI needs ``confirm_weight``."""
    require(acting_user, Action.EDIT_INTAKE, "Your role may not record an intake.")
    kg, entered, unit = _weight(weight_kg, weight, weight_unit)
    if height_cm in (None, ""):
        raise InvalidInput(
            f"height is required (from {HEIGHT_RANGE_CM[0]} to {HEIGHT_RANGE_CM[1]} cm): BMI and ideal body weight "
            "are calculated from it",
            field="height_cm",
        )
    height = _decimal(height_cm, "height_cm", *HEIGHT_RANGE_CM, "cm")
    clean_vitals = check_vitals(vitals)
    if not diagnoses:
        raise InvalidInput("choose at least one diagnosis", field="diagnoses")
    screen = eligibility_screen(
        patient=patient,
        diagnoses=diagnoses,
        failed_trials=failed_trials,
        contraindications=contraindications,
        weight_kg=float(kg),
        vitals=clean_vitals,
        pregnant=pregnant,
        consent_given=consent_given,
        at=at,
    )
    warnings = _confirm_plausible(patient, kg, height, unit, confirm_weight)
    with transaction.atomic():
        lock_active_patient(patient.pk)  # not onto a record merged meanwhile
        intake = Intake.objects.create(
            patient=patient,
            recorded_by=acting_user,
            recorded_at=at,
            diagnoses=list(diagnoses),
            failed_trials=list(failed_trials),
            contraindications=dict(contraindications),
            weight_kg=kg,
            weight_entered=entered,
            weight_unit=unit,
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
            new={
                "screen": screen.status,
                "weight_kg": str(kg),
                "weight_entered": f"{entered} {unit}",
                "diagnoses": list(diagnoses),
                "weight_confirmed_despite": warnings,
            },
        )
    return intake


def do_update_weight(
    patient: Patient,
    *,
    weight: Any,
    weight_unit: str = "kg",
    height_cm: Any = None,
    vitals: dict[str, Any] | None = None,
    confirm_weight: bool = False,
    at: datetime,
    acting_user: User,
) -> Intake:
    """A new weight (and, when given, height and vitals) without re-typing the intake: the
    latest intake's answers are carried into a new intake row, which is screened again and
    supersedes the old one (nothing is edited). The same plausibility checks as at intake
    apply ([S11][S91])."""
    if not acting_user.is_active or not (
        can(acting_user.role, Action.EDIT_INTAKE) or can(acting_user.role, Action.RECORD_VITALS)
    ):
        raise NotAllowed("Your role may not record a weight.")
    previous = latest_intake(patient)
    if previous is None:
        raise Conflict("Record an intake before updating the weight.", field="weight")
    kg, entered, unit = _weight(None, weight, weight_unit)
    height = previous.height_cm if height_cm in (None, "") else _decimal(height_cm, "height_cm", *HEIGHT_RANGE_CM, "cm")
    if height is None:
        raise InvalidInput(
            f"height is required (from {HEIGHT_RANGE_CM[0]} to {HEIGHT_RANGE_CM[1]} cm)", field="height_cm"
        )
    merged = baseline_vitals(patient)
    merged.update({k: v for k, v in (vitals or {}).items() if v not in (None, "")})
    clean_vitals = check_vitals(merged)
    screen = eligibility_screen(
        patient=patient,
        diagnoses=list(previous.diagnoses),
        failed_trials=list(previous.failed_trials),
        contraindications=dict(previous.contraindications),
        weight_kg=float(kg),
        vitals=clean_vitals,
        pregnant=previous.pregnant,
        consent_given=previous.consent_given,
        at=at,
    )
    warnings = _confirm_plausible(patient, kg, height, unit, confirm_weight)
    with transaction.atomic():
        row = Intake.objects.create(
            patient=patient,
            recorded_by=acting_user,
            recorded_at=at,
            diagnoses=list(previous.diagnoses),
            failed_trials=list(previous.failed_trials),
            contraindications=dict(previous.contraindications),
            weight_kg=kg,
            weight_entered=entered,
            weight_unit=unit,
            height_cm=height,
            pregnant=previous.pregnant,
            consent_given=previous.consent_given,
            screen_status=screen.status,
            screen_reasons=screen.reasons,
            kind="update",
            **clean_vitals,
        )
        audit.record(
            EventType.INTAKE_RECORDED,
            actor=acting_user,
            patient=patient,
            subject=row,
            at=at,
            old={"weight_kg": str(previous.weight_kg), "height_cm": str(previous.height_cm)},
            new={
                "update": "weight and vitals",
                "weight_kg": str(kg),
                "weight_entered": f"{entered} {unit}",
                "height_cm": str(height),
                "screen": screen.status,
                "weight_confirmed_despite": warnings,
            },
        )
    return row


def do_decide_eligibility(
    intake: Intake, *, decision: str, note: str, at: datetime, acting_user: User
) -> EligibilityDecision:
    """The prescriber's decision. Overriding the screen needs a note of at least 10 characters;
    a "not eligible" screen cannot be overridden to eligible (absolute contraindication), nor
    a "deferred" one (severe uncontrolled blood pressure [S87])."""
    require(acting_user, Action.DECIDE_ELIGIBILITY, "Only a prescriber decides eligibility.")
    if decision not in {"eligible", "not_eligible"}:
        raise InvalidInput("decision must be eligible or not_eligible", field="decision")
    note = note.strip()
    if intake.screen_status == "not_eligible" and decision == "eligible":
        raise Conflict(
            "The screen found an absolute contraindication; the patient cannot be made eligible.",
            field="decision",
        )
    if intake.screen_status == "deferred" and decision == "eligible":
        raise Conflict(
            "The baseline blood pressure is severely raised: eligibility is deferred until it is controlled. "
            "Record the blood pressure again (update weight and vitals) once it is treated [S87].",
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
    return _LATEST_INTAKE.first(patient_id=patient.pk)


_LATEST_INTAKE = Prepared(
    Intake,
    lambda patient_id: Intake.objects.filter(patient_id=patient_id).order_by("-recorded_at", "-id")[:1],
    "patient_id",
)


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
    except UnknownContraindicationError as exc:
        raise InvalidInput(str(exc), field="contraindications") from None
    except ValueError as exc:
        raise InvalidInput(str(exc), field="diagnoses") from None
    result = screen_eligibility(data, on=at.date(), rules=clinic_rules())
    return Screen(result.status, [f.as_dict() for f in result.findings])


def medication_classes(patient: Patient) -> dict[str, list[str]]:
    """The interaction classes of the patient's current medications (MAOI, psychostimulant,
    benzodiazepine and other CNS depressants, opioid, lamotrigine), each with its
    medications, from the pre-procedure record [S37][S30]; for the eligibility screen to show."""
    from ketamine_clinic.services import preprocedure

    return preprocedure.medication_classes(patient)
