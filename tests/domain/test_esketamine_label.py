"""Issue 12 in the domain: esketamine to the label, the eligibility screen's new questions,
body weight (BMI, ideal, adjusted, kg/lb, plausibility) and outcomes by condition."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from ketamine_clinic.domain import course, protocols
from ketamine_clinic.domain.body_weight import body_weights, check_weight, to_kg
from ketamine_clinic.domain.dosing import DoseLimitError, DoseLimits, plan_esketamine_dose, plan_infusion
from ketamine_clinic.domain.eligibility import (
    CONTRAINDICATIONS,
    Intake,
    UnknownContraindicationError,
    screen_eligibility,
)
from ketamine_clinic.domain.settings import ClinicRules

# ---- esketamine schedules [S32][S33] ----


def test_mdsi_is_planned_at_84_mg_from_the_first_dose_and_trd_starts_at_56() -> None:
    mdsi = protocols.plan_course("esketamine_mdsi", date(2026, 11, 2))
    assert [v.dose_mg for v in mdsi] == [84] * 8
    trd = protocols.plan_course("esketamine_trd", date(2026, 11, 2))
    assert trd[0].dose_mg == 56 and {v.dose_mg for v in trd[1:]} == {84}
    weeks = {v.date.isocalendar()[1] for v in mdsi}
    assert len(mdsi) == 8 and len(weeks) == 4  # twice weekly for four weeks
    assert protocols.PROTOCOLS["esketamine_mdsi"].needs_oral_antidepressant
    assert not protocols.PROTOCOLS["esketamine_trd"].needs_oral_antidepressant


def test_the_first_dose_rule_depends_on_the_indication() -> None:
    assert plan_esketamine_dose(84, first_dose=True, indication="mdsi").devices == 3
    assert plan_esketamine_dose(56, first_dose=True, indication="mdsi").devices == 2
    with pytest.raises(DoseLimitError, match="first esketamine dose must be 56"):
        plan_esketamine_dose(84, first_dose=True, indication="trd")
    with pytest.raises(DoseLimitError, match="56 or 84"):
        plan_esketamine_dose(70, indication="mdsi")


def test_esketamine_maintenance_is_weekly_then_weekly_or_fortnightly_and_iv_keeps_2_to_6_weeks() -> None:
    early = protocols.maintenance_rule("esketamine_trd", week_of_course=6)
    late = protocols.maintenance_rule("esketamine_trd", week_of_course=9)
    iv = protocols.maintenance_rule("iv_racemic_depression")
    assert (early.min_weeks, early.max_weeks) == (1, 1)
    assert (late.min_weeks, late.max_weeks) == (1, 2)
    assert (iv.min_weeks, iv.max_weeks) == (2, 6)
    start = date(2026, 11, 2)
    assert [(d - start).days for d in protocols.plan_esketamine_continuation(start)] == [28, 35, 42, 49]


def test_esketamine_never_gets_an_mg_per_kg_titration() -> None:
    partial = {
        "instrument": "phq9",
        "baseline": 20,
        "scores": [18, 16, 14, 13, 13, 13],
        "infusions_done": 8,
        "current_mg_per_kg": 0.0,
    }
    assert course.evaluate_induction(**partial).decision == "extend"  # type: ignore[arg-type]
    esk = course.evaluate_induction(**partial, esketamine=True)  # type: ignore[arg-type]
    assert esk.decision == "refer" and esk.next_dose_mg_per_kg is None
    assert "[S32][S33]" in esk.reasons[-1].source
    responder = course.evaluate_induction(
        instrument="phq9", baseline=20, scores=[12, 9, 8], infusions_done=8, current_mg_per_kg=0, esketamine=True
    )
    assert responder.decision == "maintenance" and responder.interval_weeks is None
    assert "weekly in weeks 5-8" in responder.reasons[-1].text


# ---- eligibility [S30][S37][S44][S87][S88] ----


def _intake(**kw: object) -> Intake:
    base: dict[str, object] = {
        "diagnoses": ("trd",),
        "failed_trials": ({"adequate": True}, {"adequate": True}),
        "contraindications": {},
        "birth_date": date(1980, 1, 1),
        "weight_kg": 70,
        "consent_given": True,
        "baseline_vitals": {"systolic_mmhg": 120, "diastolic_mmhg": 80},
    }
    base.update(kw)
    return Intake(**base)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("code", "status"),
    [
        ("psychosis_active", "not_eligible"),
        ("psychosis_history", "needs_review"),
        ("breastfeeding", "needs_review"),
        ("maoi_or_psychostimulant", "needs_review"),
        ("cns_depressant", "needs_review"),
        ("recent_mi_stroke", "needs_review"),
        ("mania_bipolar", "needs_review"),
        ("dementia_cognitive", "needs_review"),
        ("substance_use_suspected", "needs_review"),
    ],
)
def test_each_new_question_gives_its_outcome_with_a_source(code: str, status: str) -> None:
    result = screen_eligibility(_intake(contraindications={code: True}), on=date(2026, 11, 2))
    assert result.status == status
    finding = next(f for f in result.findings if f.kind in {"exclude", "review"})
    assert finding.source.startswith("[S")


def test_every_contraindication_cites_a_source_and_an_unknown_code_is_refused() -> None:
    assert all(c.source.startswith("[S") for c in CONTRAINDICATIONS)
    with pytest.raises(UnknownContraindicationError, match="unknown code 'psychosis'"):
        _intake(contraindications={"psychosis": True})


def test_severe_uncontrolled_hypertension_defers_and_a_raised_bp_needs_review() -> None:
    severe = screen_eligibility(
        _intake(baseline_vitals={"systolic_mmhg": 230, "diastolic_mmhg": 130}), on=date(2026, 11, 2)
    )
    assert severe.status == "deferred"
    assert "controlled" in severe.findings[-1].text and "[S87]" in severe.findings[-1].source
    raised = screen_eligibility(
        _intake(baseline_vitals={"systolic_mmhg": 150, "diastolic_mmhg": 95}), on=date(2026, 11, 2)
    )
    assert raised.status == "needs_review"
    absolute = screen_eligibility(
        _intake(
            contraindications={"aneurysm_avm": True}, baseline_vitals={"systolic_mmhg": 230, "diastolic_mmhg": 130}
        ),
        on=date(2026, 11, 2),
    )
    assert absolute.status == "not_eligible"


# ---- body weight [S89][S90][S91][S92] ----


def test_kg_and_lb_and_the_three_body_weights() -> None:
    assert to_kg(180, "lb") == Decimal("81.6")
    assert to_kg("80.04", "kg") == Decimal("80.0")
    man = body_weights(140, 180, "male")
    # 180 cm = 70.87 in: 50 + 2.3 x 10.87 = 75.0; adjusted 75.0 + 0.4 x 65.0 = 101.0
    assert (man.bmi, man.ideal_kg, man.adjusted_kg, man.obese) == (
        Decimal("43.2"),
        Decimal("75.0"),
        Decimal("101.0"),
        True,
    )
    woman = body_weights(60, 165, "female")
    assert not woman.obese and woman.weight_for("actual") == Decimal("60.0")
    assert woman.ideal_kg == Decimal("56.9")  # 45.5 + 2.3 x 4.96 = 56.91


def test_180_typed_in_kg_for_a_180_lb_patient_needs_confirmation_and_says_why() -> None:
    check = check_weight(Decimal("180"), height_cm=Decimal("175"), previous_kg=Decimal("81.6"))
    assert check.needs_confirmation
    assert "entered in kg instead of lb" in check.warnings[0]
    assert "BMI 58.8" in check.warnings[1]
    fine = check_weight(Decimal("82.5"), height_cm=Decimal("175"), previous_kg=Decimal("81.6"))
    assert not fine.needs_confirmation
    first = check_weight(Decimal("82.5"), height_cm=Decimal("175"), previous_kg=None)
    assert first.warnings == ()


def test_the_session_cap_explains_itself_and_pain_has_its_own_limits() -> None:
    with pytest.raises(DoseLimitError, match="at 140 kg the session limit allows at most 0.71 mg/kg"):
        plan_infusion(140, 0.75, 40, 1)
    pain = DoseLimits.from_rules(ClinicRules(), "iv_chronic_pain")
    plan = plan_infusion(90, 1.4, 240, 1, limits=pain)  # 0.35 mg/kg/h over 4 h [S44]
    assert plan.dose_mg == Decimal("126.0") and plan.rate_mg_per_kg_per_h == Decimal("0.4")
    with pytest.raises(DoseLimitError):
        plan_infusion(90, 1.4, 240, 1)  # the depression limits refuse it


# ---- outcomes by condition [S41][S55][S85] ----


def test_ptsd_and_pain_are_judged_on_their_own_measures_and_thresholds() -> None:
    pcl = course.evaluate_response("pcl5", 50, 34)  # 32 % down
    assert pcl.category == "response" and "PCL-5" in pcl.explanation and pcl.source == "[S41][S63]"
    pain = course.evaluate_response("pain_nrs", 8, 6)  # 25 % down
    assert pain.category == "no_response" and "30 %" in pain.explanation
    assert course.evaluate_response("pain_nrs", 8, 5).category == "response"
    assert course.evaluate_response("phq9", 20, 14).category == "partial"  # 30 % is only partial for depression


def test_no_remission_without_a_baseline_above_the_severity_floor() -> None:
    worse = course.evaluate_response("phq9", 3, 4)
    assert worse.category == "no_response" and "remission cannot be judged" in worse.explanation
    low_index = course.evaluate_response("phq9", 8, 3)  # index PHQ-9 not above 9 (CMS159)
    assert low_index.category == "response"
    assert course.evaluate_response("phq9", 12, 4).category == "remission"
    assert course.evaluate_response("madrs", 9, 8).category == "no_response"
    assert course.evaluate_response("madrs", 30, 8).category == "remission"
