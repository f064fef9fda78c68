"""Vitals, discharge, eligibility, protocols, course decisions and escalation."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from ketamine_clinic.domain import course, discharge, eligibility, escalation, protocols, vitals
from ketamine_clinic.domain.instruments import score
from ketamine_clinic.domain.settings import SETTINGS, ClinicRules, SettingError, describe_settings

NORMAL = {"systolic_mmhg": 120, "diastolic_mmhg": 78, "heart_rate_bpm": 72, "spo2_percent": 98, "respiratory_rate": 14}
AT = datetime(2026, 11, 2, 12, 0, tzinfo=UTC)


# ---- vitals ----


def test_a_normal_reading_raises_nothing() -> None:
    assert vitals.evaluate_vitals(NORMAL, NORMAL) == []


@pytest.mark.parametrize(
    ("change", "severity", "vital"),
    [
        ({"systolic_mmhg": 165}, "notify", "systolic_mmhg"),
        ({"systolic_mmhg": 182}, "pause", "systolic_mmhg"),
        ({"systolic_mmhg": 205}, "stop", "systolic_mmhg"),
        ({"diastolic_mmhg": 102}, "pause", "diastolic_mmhg"),
        ({"diastolic_mmhg": 115}, "stop", "diastolic_mmhg"),
        ({"heart_rate_bpm": 118}, "pause", "heart_rate_bpm"),
        ({"heart_rate_bpm": 45}, "notify", "heart_rate_bpm"),
        ({"spo2_percent": 90}, "pause", "spo2_percent"),
        ({"spo2_percent": 85}, "stop", "spo2_percent"),
        ({"respiratory_rate": 6}, "pause", "respiratory_rate"),
    ],
)
def test_thresholds_give_their_severity(change: dict[str, int], severity: str, vital: str) -> None:
    found = vitals.evaluate_vitals({**NORMAL, **change})
    assert (found[0].severity, found[0].vital) == (severity, vital)


def test_a_rise_from_baseline_notifies_and_the_worst_comes_first() -> None:
    found = vitals.evaluate_vitals({**NORMAL, "systolic_mmhg": 152, "spo2_percent": 85}, NORMAL)
    assert [a.severity for a in found] == ["stop", "notify"]
    assert "up 32 mmHg" in found[1].message


def test_missing_values_are_not_judged() -> None:
    assert vitals.evaluate_vitals({"systolic_mmhg": None}) == []


def test_predose_deferral_above_140_90() -> None:
    assert vitals.predose_deferral({"systolic_mmhg": 142, "diastolic_mmhg": 80}) is not None
    assert vitals.predose_deferral({"systolic_mmhg": 130, "diastolic_mmhg": 92}) is not None
    assert vitals.predose_deferral({"systolic_mmhg": 140, "diastolic_mmhg": 90}) is None


def test_next_vitals_are_due_after_the_interval() -> None:
    assert vitals.next_vitals_due(AT) == AT + timedelta(minutes=15)
    assert vitals.next_vitals_due(AT, ClinicRules().with_(vitals_every_min=10)) == AT + timedelta(minutes=10)


# ---- discharge ----


def _discharge(**kw: object) -> discharge.DischargeVerdict:
    args: dict[str, object] = {
        "aldrete": [2] * 5,
        "last_vitals": NORMAL,
        "baseline": NORMAL,
        "escort_present": True,
        "infusion_stopped_at": AT,
        "at": AT + timedelta(minutes=70),
    }
    return discharge.evaluate_discharge(**{**args, **kw})  # type: ignore[arg-type]


def test_ready_when_every_criterion_is_met() -> None:
    verdict = _discharge()
    assert verdict.ready and verdict.aldrete_total == 10 and len(verdict.reasons) == 6


@pytest.mark.parametrize(
    ("kw", "reason"),
    [
        ({"aldrete": [2, 2, 2, 1, 1]}, "Aldrete 8"),
        ({"last_vitals": {**NORMAL, "systolic_mmhg": 150}}, "systolic 150 vs baseline 120"),
        ({"baseline": {}}, "no blood pressure to compare"),
        ({"escort_present": False}, "no escort"),
        ({"at": AT + timedelta(minutes=30)}, "observed 30 min of 60"),
        ({"esketamine": True}, "observed 70 min of 120"),
        ({"padss": [2, 2, 1, 2, 1]}, "PADSS 8"),
        ({"post_dose_full_set": False}, "a full set of vital signs after dosing ended"),
        ({"last_vitals": {**NORMAL, "heart_rate_bpm": 100}}, "heart rate 100 vs baseline"),
        ({"last_vitals": {**NORMAL, "spo2_percent": 90}}, "SpO2 90 % on room air"),
        ({"esketamine": True, "bp_about_40_min": False}, "about 40 minutes after the dose"),
        ({"dissociation_resolved": False}, "dissociation resolved"),
        ({"aftercare_given": False}, "after-care instructions given"),
    ],
)
def test_each_unmet_criterion_blocks_with_its_reason(kw: dict[str, object], reason: str) -> None:
    verdict = _discharge(**kw)
    assert not verdict.ready and any(reason in r for r in verdict.reasons)


# ---- eligibility ----


def _intake(**kw: object) -> eligibility.Intake:
    args: dict[str, object] = {
        "diagnoses": ("trd",),
        "failed_trials": ({"adequate": True}, {"adequate": True}),
        "contraindications": {},
        "birth_date": date(1980, 1, 1),
        "weight_kg": 70.0,
        "pregnant": False,
        "consent_given": True,
        "baseline_vitals": NORMAL,
    }
    return eligibility.Intake(**{**args, **kw})  # type: ignore[arg-type]


def test_a_documented_trd_patient_is_eligible() -> None:
    result = eligibility.screen_eligibility(_intake(), on=date(2026, 11, 2))
    assert result.status == "eligible" and result.findings[0].source == "[S11][S57]"


@pytest.mark.parametrize(
    ("kw", "status"),
    [
        ({"failed_trials": ({"adequate": True},)}, "needs_review"),
        ({"contraindications": {"aneurysm_avm": True}}, "not_eligible"),
        ({"contraindications": {"hepatic_disease": True}}, "needs_review"),
        ({"pregnant": True}, "not_eligible"),
        ({"birth_date": date(2010, 1, 1)}, "not_eligible"),
        ({"birth_date": date(1950, 1, 1)}, "needs_review"),
        ({"consent_given": False}, "not_eligible"),
        ({"weight_kg": 20.0}, "needs_review"),
        ({"baseline_vitals": {"systolic_mmhg": 150, "diastolic_mmhg": 95}}, "needs_review"),
        ({"diagnoses": ()}, "not_eligible"),
        ({"diagnoses": ("mdsi",)}, "needs_review"),
        ({"diagnoses": ("chronic_pain",)}, "needs_review"),
        ({"diagnoses": ("ptsd",)}, "eligible"),
    ],
)
def test_the_screen_outcome_for_each_finding(kw: dict[str, object], status: str) -> None:
    result = eligibility.screen_eligibility(_intake(**kw), on=date(2026, 11, 2))
    assert result.status == status
    assert all(f.source.startswith("[S") for f in result.findings)
    assert result.findings[-1].as_dict()["kind"] in {"ok", "review", "exclude"}


def test_an_unknown_diagnosis_is_refused() -> None:
    with pytest.raises(ValueError, match="diagnoses: unknown code 'flu'"):
        _intake(diagnoses=("flu",))


# ---- protocols ----


def test_iv_induction_is_six_visits_three_a_week_on_clinic_days() -> None:
    visits = protocols.plan_course("iv_racemic_depression", date(2026, 11, 2))
    assert [v.date.isoformat() for v in visits] == [
        "2026-11-02",
        "2026-11-04",
        "2026-11-06",
        "2026-11-09",
        "2026-11-11",
        "2026-11-13",
    ]
    assert all(v.dose_mg_per_kg == 0.5 and v.phase == "induction" for v in visits)


def test_planning_skips_closed_days_and_keeps_the_spacing() -> None:
    visits = protocols.plan_course(
        "iv_racemic_depression", date(2026, 11, 1), clinic_days=(0, 2, 3), closed=[date(2026, 11, 4)]
    )
    assert visits[0].date == date(2026, 11, 2) and date(2026, 11, 4) not in [v.date for v in visits]
    assert all((b.date - a.date).days >= 2 for a, b in zip(visits, visits[1:], strict=False))


def test_twice_weekly_setting_and_esketamine_doses() -> None:
    rules = ClinicRules().with_(infusions_per_week=2)
    visits = protocols.plan_course("iv_racemic_depression", date(2026, 11, 2), rules=rules)
    assert len({v.date.isocalendar()[1] for v in visits}) == 3
    esk = protocols.plan_course("esketamine_trd", date(2026, 11, 2))
    assert esk[0].dose_mg == 56 and esk[1].dose_mg == 84 and len(esk) == 8
    assert protocols.plan_course("esketamine_mdsi", date(2026, 11, 2))[0].dose_mg == 84
    assert len(protocols.plan_course("iv_chronic_pain", date(2026, 11, 2))) == 10


def test_protocol_errors() -> None:
    with pytest.raises(protocols.ProtocolError, match="unknown protocol"):
        protocols.plan_course("lsd", date(2026, 11, 2))
    with pytest.raises(protocols.ProtocolError, match="clinic days"):
        protocols.plan_course("iv_ptsd", date(2026, 11, 2), clinic_days=())
    with pytest.raises(protocols.ProtocolError, match="within a year"):
        protocols.plan_course(
            "iv_ptsd",
            date(2026, 11, 2),
            clinic_days=(0,),
            closed=[date(2026, 11, 2) + timedelta(days=d) for d in range(400)],
        )


# ---- course ----


@pytest.mark.parametrize(
    ("instrument", "latest", "category"),
    [
        ("phq9", 4, "remission"),
        ("phq9", 8, "response"),
        ("phq9", 12, "partial"),
        ("phq9", 16, "no_response"),
        ("madrs", 10, "remission"),
        ("qids_sr16", 5, "remission"),
        ("hamd17", 7, "remission"),
        ("gad7", 2, "response"),
        ("phq9", None, "baseline_only"),
    ],
)
def test_response_categories(instrument: str, latest: int | None, category: str) -> None:
    baseline = 18 if instrument != "gad7" else 18
    status = course.evaluate_response(instrument, baseline, latest)
    assert status.category == category and status.evaluable is (category != "baseline_only")


def test_responders_move_to_maintenance_with_an_interval() -> None:
    decision = course.evaluate_induction(
        instrument="phq9", baseline=20, scores=[16, 12, 9, 8, 8, 8], infusions_done=6, current_mg_per_kg=0.5
    )
    assert decision.decision == "maintenance" and decision.label == "Move to maintenance"
    assert 2 <= (decision.interval_weeks or 0) <= 6


def test_partial_responders_at_the_standard_dose_are_titrated_once() -> None:
    args = {
        "instrument": "phq9",
        "baseline": 20,
        "scores": [18, 16, 14, 13, 13, 13],
        "infusions_done": 6,
        "current_mg_per_kg": 0.5,
    }
    assert course.evaluate_induction(**args).decision == "extend"  # type: ignore[arg-type]
    assert course.evaluate_induction(**args, already_extended=True).decision == "refer"  # type: ignore[arg-type]


def test_non_responders_are_referred() -> None:
    decision = course.evaluate_induction(
        instrument="phq9", baseline=20, scores=[19, 19, 18, 18, 18, 18], infusions_done=6, current_mg_per_kg=0.75
    )
    assert decision.decision == "refer" and decision.reasons[-1].source == "[S11][S12]"
    assert decision.reasons[0].as_dict()["source"]


@pytest.mark.parametrize(("scores", "weeks"), [([], 4), ([3, 2, 3], 6), ([6, 7, 9], 2), ([9, 8, 8], 4), ([15], 2)])
def test_maintenance_interval_follows_the_trajectory(scores: list[int], weeks: int) -> None:
    assert course.suggest_maintenance_interval(scores, 20)[0] == weeks


# ---- escalation ----


def test_item9_and_high_cssrs_are_urgent_others_notify() -> None:
    assert escalation.evaluate_escalation(score("phq9", [0] * 8 + [1]))[0].severity == "urgent"
    high = escalation.evaluate_escalation(score("cssrs_screen", [1, 1, 1, 1, 0, 0, None]))
    assert high[0].severity == "urgent" and "safety plan" in high[0].required_before_leaving[0]
    moderate = escalation.evaluate_escalation(score("cssrs_screen", [1, 1, 1, 0, 0, 0, None]))
    assert [e.severity for e in moderate] == ["notify"]
    assert escalation.evaluate_escalation(score("madrs", [0] * 9 + [5]))[0].source == "[S67]"
    assert escalation.evaluate_escalation(score("phq9", [0] * 9)) == []
    assert escalation.evaluate_escalation(score("cadss", [3] * 23)) == []


# ---- settings ----


def test_settings_defaults_ranges_and_errors() -> None:
    rules = ClinicRules()
    assert rules.standard_dose_mg_per_kg == 0.5 and rules.with_(aldrete_min=8).aldrete_min == 8
    with pytest.raises(SettingError, match="aldrete_min must be from 8 to 10 points") as error:
        rules.with_(aldrete_min=5)
    assert error.value.field == "aldrete_min"
    with pytest.raises(SettingError):
        ClinicRules(values=(("nonsense", 1.0),))
    with pytest.raises(SettingError):
        rules.with_(aldrete_min=True)
    with pytest.raises(AttributeError):
        _ = rules.nonsense
    rows = describe_settings()
    assert len(rows) == len(SETTINGS) and all(r["source"].startswith("[S") for r in rows)
    assert all(spec.low <= spec.default <= spec.high for spec in SETTINGS.values())
    unconfirmed = [r for r in rows if "UNCONFIRMED" in r["note"]]
    assert any(r["name"] == "sbp_pause_mmhg" for r in unconfirmed)


def test_every_home_readiness_criterion_met_is_listed() -> None:
    verdict = _discharge(
        padss=[2, 2, 2, 2, 1], post_dose_full_set=True, dissociation_resolved=True, aftercare_given=True
    )
    assert verdict.ready and any("PADSS 9" in r for r in verdict.reasons)
    assert any("after-care" in r for r in verdict.reasons)


@pytest.mark.parametrize(
    ("values", "field"),
    [
        ({"sbp_pause_mmhg": 220, "sbp_stop_mmhg": 170}, "sbp_pause_mmhg"),
        ({"hr_low_notify_bpm": 35, "hr_low_pause_bpm": 50}, "hr_low_pause_bpm"),
        ({"max_dose_mg_per_kg": 0.6}, "titrated_dose_mg_per_kg"),
    ],
)
def test_levels_in_the_wrong_order_are_refused(values: dict[str, float], field: str) -> None:
    from ketamine_clinic.domain.settings import SettingOrderError

    with pytest.raises(SettingOrderError) as error:
        ClinicRules().with_(**values)
    assert error.value.field == field
