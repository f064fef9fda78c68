"""Doses under the clinic's hard limits, and the titration suggestion for a visit."""

from __future__ import annotations

from typing import Any

from ketamine_clinic.domain.course import evaluate_response
from ketamine_clinic.domain.dosing import (
    DoseLimitError,
    DoseLimits,
    TitrationSuggestion,
    plan_infusion,
    suggest_titration,
)
from ketamine_clinic.domain.protocols import PROTOCOLS
from ketamine_clinic.services.clinic import clinic_rules
from ketamine_clinic.services.courses import course_scores
from ketamine_clinic.services.errors import InvalidInput
from ketamine_clinic.services.intake import latest_intake
from ketamine_clinic.services.protocols import is_nasal_protocol
from ketamine_clinic.storage.models import Visit

__all__ = [
    "default_concentration",
    "default_duration_min",
    "dose_limit_summary",
    "plan_dose",
    "preview_dose",
    "titration_note",
    "titration_suggestion",
]


def plan_dose(  # type: ignore[no-untyped-def]
    *,
    weight_kg: float,
    dose_mg_per_kg: float,
    duration_min: int,
    concentration_mg_per_ml: float,
    obese: bool = False,
    protocol: str = "",
):
    """``dosing.plan_infusion`` under the clinic's hard limits; limits become ``InvalidInput``.
    When the session cap binds for a patient with a BMI of 30 or more on actual weight
    (``obese``), the message says ideal or adjusted body weight may be chosen [S89][S90]."""
    try:
        return plan_infusion(
            weight_kg,
            dose_mg_per_kg,
            duration_min,
            concentration_mg_per_ml,
            limits=DoseLimits.from_rules(clinic_rules(), protocol),
        )
    except DoseLimitError as exc:
        message = str(exc)
        if obese and "session limit" in message:
            message += "; at a BMI of 30 or more the order may be dosed on ideal or adjusted body weight"
        raise InvalidInput(message, field=exc.field) from None


def dose_limit_summary(protocol: str = "") -> list[str]:
    r = clinic_rules()
    lim = DoseLimits.from_rules(r, protocol)
    return [
        f"At most {lim.max_mg_per_kg:g} mg/kg per infusion",
        f"At most {lim.max_mg_per_session:g} mg per session",
        f"At most {lim.max_rate_mg_per_kg_per_h:g} mg/kg/h",
        f"Weight {r.min_weight_kg:g}-{r.max_weight_kg:g} kg",
    ]


def default_duration_min(protocol: str) -> int:
    return PROTOCOLS[protocol].duration_min or int(clinic_rules().standard_duration_min)


def default_concentration() -> float:
    return clinic_rules().default_concentration_mg_per_ml


def titration_suggestion(visit: Visit) -> TitrationSuggestion | None:
    course = visit.course
    if is_nasal_protocol(course.protocol):
        return None  # esketamine doses follow the label (56 or 84 mg), not the mg/kg titration table
    done = course.visits.filter(status="done").count()
    scores = course_scores(course)
    if not course.baseline_score or not scores:
        return None
    status = evaluate_response(course.baseline_instrument, course.baseline_score, scores[-1], clinic_rules())
    responding = status.category in {"response", "remission"}
    return suggest_titration(done, responding, float(course.dose_mg_per_kg), clinic_rules())


def titration_note(visit: Visit) -> str:
    suggestion = titration_suggestion(visit)
    return f"Suggested {suggestion.dose_mg_per_kg:g} mg/kg: {suggestion.reason}" if suggestion else ""


def preview_dose(visit: Visit, data: Any) -> dict[str, Any]:
    intake = latest_intake(visit.patient)
    if intake is None:
        return {"ok": False, "message": "No weight recorded: complete an intake first."}
    try:
        plan = plan_dose(
            weight_kg=float(intake.weight_kg),
            dose_mg_per_kg=float(data.get("dose_mg_per_kg")),
            duration_min=int(data.get("duration_min")),
            concentration_mg_per_ml=float(data.get("concentration_mg_per_ml")),
        )
    except (InvalidInput, TypeError, ValueError) as exc:
        return {"ok": False, "message": getattr(exc, "message", str(exc))}
    return {
        "ok": True,
        "weight_kg": intake.weight_kg,
        "dose_mg": plan.dose_mg,
        "volume_ml": plan.volume_ml,
        "rate_ml_per_h": plan.rate_ml_per_h,
    }
