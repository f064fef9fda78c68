"""The bridge from stored rows to the pure clinical rules in ``domain``.

Services call these functions, never the domain directly for row-shaped questions, so
that loading settings and mapping rows to domain values happens in one place.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from ketamine_clinic.domain import instruments
from ketamine_clinic.domain.course import DECISIONS, InductionDecision, ResponseStatus, evaluate_response
from ketamine_clinic.domain.course import evaluate_induction as domain_evaluate_induction
from ketamine_clinic.domain.discharge import evaluate_discharge
from ketamine_clinic.domain.dosing import (
    DoseLimitError,
    DoseLimits,
    TitrationSuggestion,
    plan_infusion,
    suggest_titration,
)
from ketamine_clinic.domain.eligibility import CONTRAINDICATIONS, screen_eligibility
from ketamine_clinic.domain.eligibility import Intake as DomainIntake
from ketamine_clinic.domain.escalation import Escalation, evaluate_escalation
from ketamine_clinic.domain.protocols import PROTOCOLS, PlannedVisit, ProtocolError, plan_course
from ketamine_clinic.domain.settings import ClinicRules
from ketamine_clinic.domain.vitals import evaluate_vitals, predose_deferral
from ketamine_clinic.services.errors import InvalidInput
from ketamine_clinic.storage.models import Assessment, InfusionSession, Intake, Patient, Visit, VitalSign

__all__ = [
    "CHECKLIST",
    "FoundAlert",
    "Verdict",
    "baseline_vitals",
    "discharge_verdict",
    "is_esketamine",
    "max_rate_factor",
    "vital_alerts",
]

#: Pre-infusion checklist items (field name, label). Sources: fasting and escort [S50],
#: consent [S2], the suicide screen before dosing [S70].
CHECKLIST: tuple[tuple[str, str], ...] = (
    ("identity_checked", "Identity and allergies checked"),
    ("fasting", "Fasting as instructed (no food 2 h, no liquids 30 min)"),
    ("escort", "Escort present to take the patient home"),
    ("consent", "Consent on file for this course"),
    ("questionnaire", "Today's PHQ-9 and suicide screen reviewed"),
    ("iv_access", "IV access in place and patent"),
)


@dataclass(frozen=True)
class FoundAlert:
    severity: str
    message: str
    source: str
    vital: str = ""

    def as_dict(self) -> dict[str, str]:
        return {"severity": self.severity, "message": self.message, "source": self.source, "vital": self.vital}


@dataclass(frozen=True)
class Verdict:
    ready: bool
    reasons: list[str]


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


def is_esketamine(session: InfusionSession) -> bool:
    return session.visit.course.protocol.startswith("esketamine")


def clinic_rules() -> ClinicRules:
    """The clinic's thresholds: the cited defaults with the admin's overrides."""
    from ketamine_clinic.services.clinic import rule_overrides

    return ClinicRules().with_(**rule_overrides())


def max_rate_factor() -> float:
    return clinic_rules().rate_allowance_factor


def min_gap_between_doses() -> timedelta:
    """The clinic's minimum time between two doses (setting ``min_hours_between_infusions``,
    [S41]); esketamine's twice-weekly label schedule [S32] keeps the same floor. Opening a
    session, rescheduling and moving a visit all read it here."""
    return timedelta(hours=clinic_rules().min_hours_between_infusions)


def vitals_interval_min(*, dosing: bool = False) -> int:
    """Minutes between readings: the dosing interval while the dose runs, else after it [S6][S7]."""
    r = clinic_rules()
    return int(r.vitals_every_dosing_min if dosing else r.vitals_every_min)


def vital_alerts(
    baseline: dict[str, Any], reading: dict[str, Any], *, pre_dose: bool, esketamine: bool
) -> list[FoundAlert]:
    """Alerts for a reading; before the dose also the deferral guide ([S30])."""
    found = [
        FoundAlert(a.severity, a.message, a.source, a.vital) for a in evaluate_vitals(reading, baseline, clinic_rules())
    ]
    if pre_dose:
        deferral = predose_deferral(reading, clinic_rules())
        if deferral is not None:
            found.append(FoundAlert(deferral.severity, deferral.message, deferral.source, "predose_bp"))
    return found


def min_observation_min(session: InfusionSession) -> int:
    r = clinic_rules()
    return int(r.min_observation_esketamine_min if is_esketamine(session) else r.min_observation_iv_min)


def _answers(code: str, values: list[int | None], label: str) -> list[int]:
    """Every item of a discharge score answered 0-2; the first unanswered item is named."""
    try:
        instruments.score(code, values, clinic_rules())
    except ValueError as exc:
        item = int(getattr(exc, "item", 1) or 1)
        raise InvalidInput(
            f"{label} item {item}: score it 0, 1 or 2 (unanswered or out of range)", field=f"{code}_{item - 1}"
        ) from None
    return [int(v) for v in values if v is not None]


def discharge_verdict(
    session: InfusionSession,
    *,
    aldrete: list[int | None],
    padss: list[int | None],
    escort_present: bool,
    dissociation_resolved: bool,
    aftercare_given: bool,
    at: datetime,
) -> Verdict:
    """The discharge rules over the session's records ([S46][S84][S49][S30][S50])."""
    aldrete_ok = _answers("aldrete", aldrete, "Aldrete")
    padss_ok = _answers("padss", padss, "PADSS")
    readings = list(VitalSign.objects.filter(session=session).order_by("at", "id"))
    replaced = {v.amends_id for v in readings if v.amends_id}
    current = [v for v in readings if v.pk not in replaced]
    ended = session.stopped_at or at
    full = [
        v
        for v in current
        if v.at >= ended
        and at - v.at <= timedelta(minutes=30)
        and None not in (v.systolic_mmhg, v.diastolic_mmhg, v.heart_rate_bpm, v.spo2_percent, v.respiratory_rate)
    ]
    last = full[-1] if full else (current[-1] if current else None)
    reading = (
        {"systolic_mmhg": last.systolic_mmhg, "heart_rate_bpm": last.heart_rate_bpm, "spo2_percent": last.spo2_percent}
        if last
        else {}
    )
    first_dose = session.started_at or ended
    about_40 = any(
        timedelta(minutes=30) <= v.at - first_dose <= timedelta(minutes=60) and v.systolic_mmhg is not None
        for v in current
    )
    verdict = evaluate_discharge(
        aldrete=aldrete_ok,
        padss=padss_ok,
        last_vitals=reading,
        baseline=baseline_vitals(session.patient),
        escort_present=escort_present,
        infusion_stopped_at=ended,
        at=at,
        esketamine=is_esketamine(session),
        rules=clinic_rules(),
        post_dose_full_set=bool(full),
        bp_about_40_min=about_40,
        dissociation_resolved=dissociation_resolved,
        aftercare_given=aftercare_given,
    )
    return Verdict(verdict.ready, list(verdict.reasons))


# ---- dosing -------------------------------------------------------------------------------


def plan_dose(*, weight_kg: float, dose_mg_per_kg: float, duration_min: int, concentration_mg_per_ml: float):  # type: ignore[no-untyped-def]
    """``dosing.plan_infusion`` under the clinic's hard limits; limits become ``InvalidInput``."""
    try:
        return plan_infusion(
            weight_kg,
            dose_mg_per_kg,
            duration_min,
            concentration_mg_per_ml,
            limits=DoseLimits.from_rules(clinic_rules()),
        )
    except DoseLimitError as exc:
        raise InvalidInput(str(exc), field=exc.field) from None


def dose_limit_summary() -> list[str]:
    r = clinic_rules()
    return [
        f"At most {r.max_dose_mg_per_kg:g} mg/kg per infusion",
        f"At most {r.max_dose_mg_per_session:g} mg per session",
        f"At most {r.max_rate_mg_per_kg_per_h:g} mg/kg/h",
        f"Weight {r.min_weight_kg:g}-{r.max_weight_kg:g} kg",
    ]


def default_duration_min(protocol: str) -> int:
    return PROTOCOLS[protocol].duration_min or int(clinic_rules().standard_duration_min)


def default_concentration() -> float:
    return clinic_rules().default_concentration_mg_per_ml


def _course_scores(course: Any) -> list[int]:
    return list(
        Assessment.objects.filter(patient=course.patient, instrument="phq9", at__gte=course.planned_at)
        .order_by("at")
        .values_list("total", flat=True)
    )


def titration_suggestion(visit: Visit) -> TitrationSuggestion | None:
    course = visit.course
    if is_nasal_protocol(course.protocol):
        return None  # esketamine doses follow the label (56 or 84 mg), not the mg/kg titration table
    done = course.visits.filter(status="done").count()
    scores = _course_scores(course)
    if not course.baseline_score or not scores:
        return None
    status = evaluate_response("phq9", course.baseline_score, scores[-1], clinic_rules())
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


# ---- eligibility --------------------------------------------------------------------------


@dataclass(frozen=True)
class Screen:
    status: str
    reasons: list[dict[str, str]]


def contraindication_questions() -> list[tuple[str, str]]:
    return [(c.code, c.text) for c in CONTRAINDICATIONS]


def screen(
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


# ---- courses ------------------------------------------------------------------------------

CLINIC_OPENS = time(8, 0)
CLINIC_CLOSES = time(17, 0)
CLINIC_DAYS = (0, 1, 2, 3, 4)
INDUCTION_DECISIONS = tuple(DECISIONS)


@dataclass(frozen=True)
class VisitPlan:
    dose_mg_per_kg: float
    visits: list[PlannedVisit]


def clinic_protocols() -> list[Any]:
    """Protocols the clinic workflow runs end to end: IV infusions and esketamine nasal spray."""
    return list(PROTOCOLS.values())


def is_nasal_protocol(protocol: str) -> bool:
    return PROTOCOLS[protocol].route == "nasal"


def protocol_choices() -> list[tuple[str, str]]:
    return [(p.code, p.name) for p in clinic_protocols()]


def protocol_summaries() -> list[dict[str, str]]:
    return [{"name": p.name, "summary": p.summary, "sources": p.sources} for p in clinic_protocols()]


def plan_visits(protocol: str, start: date) -> VisitPlan:
    if protocol not in {p.code for p in clinic_protocols()}:
        raise InvalidInput(
            f"protocol must be one of: {', '.join(p.code for p in clinic_protocols())}", field="protocol"
        )
    try:
        visits = plan_course(protocol, start, clinic_days=CLINIC_DAYS, rules=clinic_rules())
    except ProtocolError as exc:
        raise InvalidInput(str(exc), field="protocol") from None
    p = PROTOCOLS[protocol]
    if p.route == "nasal":
        return VisitPlan(0.0, visits)  # dosed in 28 mg devices, not by weight
    return VisitPlan(p.dose_mg_per_kg or clinic_rules().standard_dose_mg_per_kg, visits)


def slot_minutes(protocol: str) -> int:
    return PROTOCOLS[protocol].slot_minutes


def induction_count(protocol: str) -> int:
    return (
        int(clinic_rules().induction_infusions)
        if protocol == "iv_racemic_depression"
        else PROTOCOLS[protocol].induction_visits
    )


def next_clinic_day(day: date) -> date:
    while day.weekday() not in CLINIC_DAYS:
        day += timedelta(days=1)
    return day


def extension_offsets_days() -> list[int]:
    """Three more induction infusions, two to three days apart ([S12])."""
    return [2, 4, 7]


def evaluate_induction(course: Any) -> InductionDecision:
    scores = _course_scores(course)
    done = course.visits.filter(status="done").count()
    extended = course.decisions.filter(decision="extend").exists()
    return domain_evaluate_induction(
        instrument="phq9",
        baseline=course.baseline_score or (scores[0] if scores else 0),
        scores=scores,
        infusions_done=done,
        current_mg_per_kg=float(course.dose_mg_per_kg),
        already_extended=extended,
        rules=clinic_rules(),
    )


def induction_decision_choices() -> list[tuple[str, str]]:
    return list(DECISIONS.items())


def response_status(course: Any, scores: list[Any]) -> ResponseStatus | None:
    if course is None:
        return None
    phq = [s.total for s in scores if s.instrument == "phq9" and s.at >= course.planned_at]
    baseline = course.baseline_score
    if baseline is None:
        return None
    return evaluate_response("phq9", baseline, phq[-1] if phq else None, clinic_rules())


def latest_score(patient: Patient, code: str) -> int | None:
    row = Assessment.objects.filter(patient=patient, instrument=code).order_by("-at", "-id").first()
    return row.total if row else None


# ---- instruments --------------------------------------------------------------------------


def score(code: str, answers: Any) -> Any:
    result = instruments.score(code, answers, clinic_rules())
    return ScoreView(result.total, result.band, list(result.flags), result)


@dataclass(frozen=True)
class ScoreView:
    total: int
    band: str
    flags: list[str]
    result: Any


def error_field(exc: Exception) -> str:
    return str(getattr(exc, "field", "answers"))


def escalations(code: str, answers: Any, result: Any) -> list[Escalation]:
    """The suicide-risk escalations a scored questionnaire calls for (``domain.escalation``)."""
    return evaluate_escalation(result.result)


def instrument_name(code: str) -> str:
    return instruments.INSTRUMENTS[code].name if code in instruments.INSTRUMENTS else code


def instrument_max(code: str) -> int:
    return instruments.INSTRUMENTS[code].max_total


def instrument_form(code: str) -> dict[str, Any]:
    inst = instruments.get(code)
    items = []
    for item in inst.items:
        values = range(item.low, item.high + 1)
        labels = item.anchors if len(item.anchors) == len(values) else tuple(str(v) for v in values)
        items.append(
            {
                "name": f"item_{item.number}",
                "field": f"item_{item.number}",
                "text": item.text,
                "options": list(zip(values, labels, strict=True)),
            }
        )
    return {"code": code, "name": inst.name, "instructions": inst.instructions, "items": items}


#: Clinician-rated scales offered at the chair and in the chart: dissociation, psychotic
#: symptoms and depression ratings [S69][S67][S63].
CLINICIAN_RATINGS = ("cadss", "bprs_positive", "madrs", "hamd17")


def patient_questionnaires() -> list[tuple[str, str]]:
    return [(c, instruments.INSTRUMENTS[c].name) for c in ("phq9", "gad7", "pcl5", "cssrs_screen")]


def side_effect_label(code: str) -> str:
    from ketamine_clinic.services.sessions import SIDE_EFFECTS

    return dict(SIDE_EFFECTS).get(code, code)
