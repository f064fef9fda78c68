"""Issue 12 and issue 16 item 1 through the services: esketamine to the label, the new
eligibility rules, weight in kg or lb with plausibility checks, dosing weight at BMI >= 30,
soft dose warnings, the chronic-pain protocol and outcomes by condition."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest

from ketamine_clinic.services import courses, intake, measures, orders
from ketamine_clinic.services.errors import Conflict, InvalidInput
from ketamine_clinic.storage.models import AuditEvent, EventType, Intake, Visit
from tests.conftest import MONDAY, VITALS
from tests.support.rems import rems_ready


def _intake(patient, nurse, **kw):  # type: ignore[no-untyped-def]
    args = {
        "diagnoses": ["trd"],
        "failed_trials": [{"adequate": True}, {"adequate": True}],
        "contraindications": {},
        "weight_kg": "70",
        "height_cm": "170",
        "vitals": VITALS,
        "pregnant": False,
        "consent_given": True,
        "at": MONDAY - timedelta(days=7),
        "acting_user": nurse,
    }
    args.update(kw)
    return intake.do_record_intake(patient, **args)


def _eligible_course(patient, nurse, prescriber, protocol, **kw):  # type: ignore[no-untyped-def]
    row = _intake(patient, nurse, **kw.pop("intake", {}))
    intake.do_decide_eligibility(
        row,
        decision="eligible",
        note="Reviewed by the prescriber",
        at=MONDAY - timedelta(days=6),
        acting_user=prescriber,
    )
    return courses.do_plan_course(
        patient,
        protocol=protocol,
        start_date=MONDAY.date(),
        at=MONDAY - timedelta(days=5),
        acting_user=prescriber,
        **kw,
    )


# ---- esketamine to the label ----


def test_mdsi_needs_the_oral_antidepressant_and_orders_84_mg_first(patient, nurse, prescriber, chairs) -> None:
    row = _intake(patient, nurse, diagnoses=["mdsi"])
    intake.do_decide_eligibility(
        row,
        decision="eligible",
        note="Same-day risk assessment done",
        at=MONDAY - timedelta(days=6),
        acting_user=prescriber,
    )
    with pytest.raises(InvalidInput, match="oral antidepressant is required") as error:
        courses.do_plan_course(
            patient, protocol="esketamine_mdsi", start_date=MONDAY.date(), at=MONDAY, acting_user=prescriber
        )
    assert error.value.field == "oral_antidepressant" and not patient.courses.exists()
    course = courses.do_plan_course(
        patient,
        protocol="esketamine_mdsi",
        start_date=MONDAY.date(),
        oral_antidepressant="sertraline 100 mg daily",
        at=MONDAY,
        acting_user=prescriber,
    )
    assert course.oral_antidepressant == "sertraline 100 mg daily" and course.visits.count() == 8
    first = course.visits.order_by("starts_at").first()
    rems_ready(patient, prescriber, MONDAY)
    order = orders.do_sign_nasal_order(first, dose_mg=84, at=MONDAY, acting_user=prescriber)
    assert (order.dose_mg, order.devices) == (Decimal("84"), 3)


def test_an_esketamine_course_is_never_extended_and_maintenance_is_weekly(patient, nurse, prescriber, chairs) -> None:
    course = _eligible_course(patient, nurse, prescriber, "esketamine_trd")
    assert [c for c, _ in courses.induction_decision_choices(course)] == ["maintenance", "refer"]
    first = course.visits.order_by("starts_at").first()
    course.visits.update(status="done")
    with pytest.raises(InvalidInput, match="never by an mg/kg titration") as error:
        courses.do_decide_induction(
            course, decision="extend", override_reason="partial response seen", at=MONDAY, acting_user=prescriber
        )
    assert error.value.field == "decision" and course.decisions.count() == 0
    at = MONDAY + timedelta(days=27)
    courses.do_decide_induction(
        course, decision="maintenance", override_reason="response on the PHQ-9", at=at, acting_user=prescriber
    )
    booked = list(course.visits.filter(phase="maintenance").order_by("starts_at"))
    assert len(booked) == 4
    gaps = {(b.starts_at.date() - a.starts_at.date()).days for a, b in zip(booked, booked[1:], strict=False)}
    assert gaps == {7}
    assert (booked[0].starts_at.date() - first.starts_at.date()).days == 28


def test_esketamine_boosters_may_be_weekly_iv_boosters_not(patient, nurse, prescriber, front_desk, chairs) -> None:
    course = _eligible_course(patient, nurse, prescriber, "esketamine_trd")
    course.status = "maintenance"
    course.save()
    last = course.visits.order_by("-starts_at").first().starts_at.date()
    visit = courses.do_book_maintenance_visit(course, day=last + timedelta(days=7), acting_user=front_desk, at=MONDAY)
    assert visit.phase == "maintenance"
    with pytest.raises(InvalidInput, match="once weekly in weeks 5-8") as error:
        courses.do_book_maintenance_visit(course, day=last + timedelta(days=12), acting_user=front_desk, at=MONDAY)
    assert error.value.field == "day"


# ---- eligibility ----


def test_an_unknown_contraindication_is_refused_and_nothing_saved(patient, nurse) -> None:
    with pytest.raises(InvalidInput, match="unknown code 'psychosis'") as error:
        _intake(patient, nurse, contraindications={"psychosis": True})
    assert error.value.field == "contraindications" and not patient.intakes.exists()


def test_severe_hypertension_defers_until_a_controlled_reading(patient, nurse, prescriber) -> None:
    row = _intake(patient, nurse, vitals={**VITALS, "systolic_mmhg": 230, "diastolic_mmhg": 130})
    assert row.screen_status == "deferred"
    with pytest.raises(Conflict, match="deferred until it is controlled"):
        intake.do_decide_eligibility(
            row, decision="eligible", note="I accept the risk here", at=MONDAY, acting_user=prescriber
        )
    controlled = intake.do_update_weight(
        patient,
        weight="70",
        vitals={"systolic_mmhg": 128, "diastolic_mmhg": 82},
        at=MONDAY,
        acting_user=nurse,
    )
    assert controlled.screen_status == "eligible" and controlled.kind == "update"
    assert controlled.diagnoses == ["trd"] and controlled.systolic_mmhg == 128 and controlled.heart_rate_bpm == 72
    intake.do_decide_eligibility(controlled, decision="eligible", note="", at=MONDAY, acting_user=prescriber)


# ---- weight entry ----


def test_weight_in_lb_is_stored_in_kg_and_height_is_required(patient, nurse) -> None:
    with pytest.raises(InvalidInput, match="height is required") as error:
        _intake(patient, nurse, height_cm=None)
    assert error.value.field == "height_cm"
    row = _intake(patient, nurse, weight_kg=None, weight="180", weight_unit="lb")
    assert (row.weight_kg, row.weight_entered, row.weight_unit, row.weight_lb) == (
        Decimal("81.6"),
        Decimal("180.0"),
        "lb",
        179.9,
    )
    assert row.bmi == 28.2


def test_180_kg_for_a_180_lb_patient_is_caught_then_confirmed_and_audited(patient, nurse) -> None:
    _intake(patient, nurse, weight_kg=None, weight="180", weight_unit="lb", height_cm="170")
    with pytest.raises(InvalidInput, match="entered in kg instead of lb") as error:
        intake.do_update_weight(patient, weight="180", weight_unit="kg", at=MONDAY, acting_user=nurse)
    assert error.value.field == "confirm_weight" and patient.intakes.count() == 1
    row = intake.do_update_weight(
        patient, weight="180", weight_unit="kg", confirm_weight=True, at=MONDAY, acting_user=nurse
    )
    assert row.weight_kg == Decimal("180.0")
    event = AuditEvent.objects.filter(event_type=EventType.INTAKE_RECORDED).order_by("-id").first()
    assert "kg instead of lb" in str(event.new_values)


def test_the_crna_may_update_a_weight_the_front_desk_may_not(patient, nurse, crna, front_desk) -> None:
    from ketamine_clinic.services.errors import NotAllowed

    _intake(patient, nurse)
    assert intake.do_update_weight(patient, weight="71", at=MONDAY, acting_user=crna).weight_kg == Decimal("71.0")
    with pytest.raises(NotAllowed):
        intake.do_update_weight(patient, weight="72", at=MONDAY, acting_user=front_desk)
    assert Intake.objects.filter(patient=patient).count() == 2


# ---- dosing weight and soft warnings ----


def test_at_bmi_30_the_order_may_use_ideal_or_adjusted_weight(stranger, nurse, prescriber, crna, chairs) -> None:
    course = _eligible_course(
        stranger, nurse, prescriber, "iv_racemic_depression", intake={"weight_kg": "140", "height_cm": "180"}
    )
    visit = course.visits.order_by("starts_at").first()
    with pytest.raises(InvalidInput, match="ideal or adjusted body weight") as error:
        orders.do_sign_order(
            visit,
            dose_mg_per_kg=0.75,
            duration_min=40,
            concentration_mg_per_ml=1,
            at=MONDAY,
            acting_user=prescriber,
            confirm_warnings=True,
        )
    assert "0.71 mg/kg" in error.value.message
    order = orders.do_sign_order(
        visit,
        dose_mg_per_kg=0.5,
        duration_min=40,
        concentration_mg_per_ml=1,
        at=MONDAY,
        acting_user=prescriber,
        weight_basis="adjusted",
    )
    assert (order.weight_kg, order.dosing_weight_kg, order.bmi, order.ideal_weight_kg) == (
        Decimal("140.0"),
        Decimal("101.0"),
        Decimal("43.2"),
        Decimal("75.0"),
    )
    assert order.dose_mg == Decimal("50.5") and order.weight_basis == "adjusted"
    assert orders.do_verify_order(order, at=MONDAY, acting_user=crna).verified_at is not None


def test_ideal_weight_is_refused_below_bmi_30(course, prescriber) -> None:
    visit = course.visits.order_by("starts_at").first()
    with pytest.raises(InvalidInput, match="from a BMI of 30") as error:
        orders.do_sign_order(
            visit,
            dose_mg_per_kg=0.5,
            duration_min=40,
            concentration_mg_per_ml=1,
            at=MONDAY,
            acting_user=prescriber,
            weight_basis="ideal",
        )
    assert error.value.field == "weight_basis"


def test_a_dose_above_the_step_needs_the_prescribers_confirmation(course, prescriber) -> None:
    visit = course.visits.order_by("starts_at").first()
    with pytest.raises(InvalidInput, match="above the course's step of 0.5 mg/kg") as error:
        orders.do_sign_order(
            visit, dose_mg_per_kg=0.75, duration_min=40, concentration_mg_per_ml=1, at=MONDAY, acting_user=prescriber
        )
    assert error.value.field == "confirm_warnings" and not visit.orders.exists()
    order = orders.do_sign_order(
        visit,
        dose_mg_per_kg=0.75,
        duration_min=40,
        concentration_mg_per_ml=1,
        at=MONDAY,
        acting_user=prescriber,
        confirm_warnings=True,
    )
    assert order.warnings_confirmed == ["0.75 mg/kg is above the course's step of 0.5 mg/kg"]


def test_a_change_from_the_last_infusion_is_a_soft_warning(course, prescriber) -> None:
    first, second = list(course.visits.order_by("starts_at"))[:2]
    orders.do_sign_order(
        first, dose_mg_per_kg=0.5, duration_min=40, concentration_mg_per_ml=1, at=MONDAY, acting_user=prescriber
    )
    Visit.objects.filter(pk=first.pk).update(status="done")
    course.dose_mg_per_kg = Decimal("0.75")
    course.save()
    warnings = orders.dose_warnings(second, dose_mg_per_kg=0.75, dose_mg=52.5)
    assert warnings == ["52.5 mg is 50 % away from the last infusion's 35 mg (more than 20 %)"]
    assert orders.dose_warnings(second, dose_mg_per_kg=0.5, dose_mg=35) == []


# ---- chronic pain and outcomes by condition ----


def test_the_chronic_pain_protocol_is_orderable_under_its_own_limits(patient, nurse, prescriber, chairs) -> None:
    course = _eligible_course(
        patient,
        nurse,
        prescriber,
        "iv_chronic_pain",
        intake={"diagnoses": ["chronic_pain"], "weight_kg": "90", "height_cm": "178"},
    )
    assert course.baseline_instrument == "pain_nrs"
    visit = course.visits.order_by("starts_at").first()
    order = orders.do_sign_order(
        visit, dose_mg_per_kg=1.4, duration_min=240, concentration_mg_per_ml=1, at=MONDAY, acting_user=prescriber
    )
    assert order.dose_mg == Decimal("126.0") and order.rate_ml_per_h == Decimal("31.5")


def test_a_ptsd_course_is_judged_on_the_pcl5(patient, nurse, prescriber, chairs) -> None:
    course = _eligible_course(patient, nurse, prescriber, "iv_ptsd", intake={"diagnoses": ["ptsd"]}, baseline_score=50)
    assert course.baseline_instrument == "pcl5"
    measures.do_record_assessment(patient, "phq9", [3] * 9, at=MONDAY + timedelta(days=13), acting_user=nurse)
    measures.do_record_assessment(patient, "pcl5", [1] * 20, at=MONDAY + timedelta(days=14), acting_user=nurse)
    course.visits.update(status="done")
    suggestion = courses.evaluate_induction(course)
    assert suggestion.decision == "maintenance"
    assert "PCL-5 down 60 %" in suggestion.reasons[0].text and "[S41]" in suggestion.reasons[0].source


def test_a_depression_course_may_be_judged_on_madrs_not_a_ptsd_one(patient, nurse, prescriber, chairs) -> None:
    row = _intake(patient, nurse)
    intake.do_decide_eligibility(row, decision="eligible", note="", at=MONDAY, acting_user=prescriber)
    with pytest.raises(InvalidInput, match="primary measure must be one of: pcl5") as error:
        courses.do_plan_course(
            patient,
            protocol="iv_ptsd",
            start_date=MONDAY.date(),
            primary_measure="madrs",
            at=MONDAY,
            acting_user=prescriber,
        )
    assert error.value.field == "primary_measure"
    course = courses.do_plan_course(
        patient,
        protocol="iv_racemic_depression",
        start_date=MONDAY.date(),
        primary_measure="madrs",
        baseline_score=30,
        at=MONDAY,
        acting_user=prescriber,
    )
    measures.do_record_assessment(patient, "madrs", [1] * 10, at=MONDAY + timedelta(days=14), acting_user=prescriber)
    course.visits.update(status="done")
    suggestion = courses.evaluate_induction(course)
    assert suggestion.decision == "maintenance" and "MADRS 10 is in the remission range" in suggestion.reasons[0].text


def test_an_mdsi_responder_is_suggested_maintenance_with_the_labels_caveat(patient, nurse, prescriber, chairs) -> None:
    row = _intake(patient, nurse, diagnoses=["mdsi"])
    intake.do_decide_eligibility(
        row, decision="eligible", note="Risk assessed today", at=MONDAY, acting_user=prescriber
    )
    course = courses.do_plan_course(
        patient,
        protocol="esketamine_mdsi",
        start_date=MONDAY.date(),
        oral_antidepressant="sertraline 50 mg",
        baseline_score=20,
        at=MONDAY,
        acting_user=prescriber,
    )
    measures.do_record_assessment(patient, "phq9", [1] * 8 + [0], at=MONDAY + timedelta(days=27), acting_user=nurse)
    course.visits.update(status="done")
    suggestion = courses.evaluate_induction(course)
    assert suggestion.decision == "maintenance"
    assert "beyond 4 weeks was not systematically evaluated" in suggestion.reasons[-1].text
