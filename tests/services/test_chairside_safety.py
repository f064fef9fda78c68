"""Chair-side safety enforced in the services: vital-sign alerts, pre-dose BP, the dose
re-checked at every step, the pump's hourly limit, the ordered dose never silently exceeded."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
import time_machine

from ketamine_clinic.domain import chairside
from ketamine_clinic.domain.settings import ClinicRules
from ketamine_clinic.domain.vitals import evaluate_vitals, next_vitals_due
from ketamine_clinic.services import alerts, clinic, intake, orders, sessions
from ketamine_clinic.services.errors import Conflict, InvalidInput, NotAllowed
from ketamine_clinic.services.jobs import run_due_jobs
from ketamine_clinic.storage.models import Alert
from tests.conftest import MONDAY, VITALS, complete_checklist
from tests.support.rems import rems_on_site, rems_ready

BASE = {"systolic_mmhg": 120, "diastolic_mmhg": 78, "heart_rate_bpm": 72, "spo2_percent": 98, "respiratory_rate": 14}


@pytest.mark.parametrize(
    ("change", "severity", "words"),
    [
        ({"systolic_mmhg": 80, "diastolic_mmhg": 40}, "pause", "hypotension"),
        ({"systolic_mmhg": 92}, "notify", "below baseline"),
        ({"heart_rate_bpm": 38}, "pause", "bradycardia"),
        ({"heart_rate_bpm": 48}, "notify", "below 50"),
        ({"respiratory_rate": 28}, "notify", "above 24"),
    ],
)
def test_low_pressure_slow_heart_and_fast_breathing_raise_alerts(change, severity, words) -> None:
    found = evaluate_vitals({**BASE, **change}, BASE, ClinicRules())
    assert any(a.severity == severity and words in a.message for a in found), found


def test_vitals_are_due_every_10_min_while_dosing_and_15_after_by_the_settings() -> None:
    from datetime import UTC, datetime

    t = datetime(2026, 1, 1, tzinfo=UTC)
    assert next_vitals_due(t, ClinicRules(), dosing=True) == t + timedelta(minutes=10)
    assert next_vitals_due(t, ClinicRules()) == t + timedelta(minutes=15)
    assert next_vitals_due(t, ClinicRules().with_(vitals_every_dosing_min=5), dosing=True) == t + timedelta(minutes=5)


def test_notify_findings_are_alerts_that_do_not_block_dosing(running_session, nurse) -> None:
    t = running_session.started_at
    for k in (1, 2, 3):
        sessions.do_record_vitals(
            running_session, {**VITALS, "heart_rate_bpm": 47}, at=t + timedelta(minutes=10 * k), acting_user=nurse
        )
    alert = Alert.objects.get(kind="vital_sign")
    assert alert.severity == "notify" and len(alert.findings) == 3
    assert alerts.dose_block_reason(running_session.patient, at=t) is None


def test_a_stop_level_reading_after_the_first_device_blocks_the_next(
    recorded_intake, prescriber, crna, nurse, patient, chairs
) -> None:
    from ketamine_clinic.services import courses

    intake.do_decide_eligibility(recorded_intake, decision="eligible", note="", at=MONDAY, acting_user=prescriber)
    course = courses.do_plan_course(
        patient, protocol="esketamine_trd", start_date=MONDAY.date(), at=MONDAY, acting_user=prescriber
    )
    visit = course.visits.order_by("starts_at").first()
    rems_ready(patient, prescriber, MONDAY)
    order = orders.do_sign_nasal_order(visit, dose_mg=56, at=MONDAY, acting_user=prescriber)
    orders.do_verify_order(order, at=MONDAY, acting_user=nurse)
    t = visit.starts_at
    session = sessions.do_open_session(visit, at=t, acting_user=nurse)
    rems_on_site(session, prescriber, session.opened_at)
    complete_checklist(session, items={n: True for n, _ in chairside.CHECKLIST}, vitals=VITALS, at=t, acting_user=nurse)
    sessions.do_give_nasal_device(session, at=t + timedelta(minutes=1), acting_user=crna)
    sessions.do_record_vitals(
        session, {**VITALS, "systolic_mmhg": 215, "diastolic_mmhg": 120}, at=t + timedelta(minutes=4), acting_user=nurse
    )
    with pytest.raises(Conflict, match="stop alert"):
        sessions.do_give_nasal_device(session, at=t + timedelta(minutes=7), acting_user=crna)


def test_a_predose_bp_above_the_guide_needs_the_prescribers_decision(verified_order, nurse, crna, prescriber) -> None:
    visit = verified_order.visit
    t = visit.starts_at
    session = sessions.do_open_session(visit, at=t, acting_user=nurse)
    complete_checklist(
        session,
        items={n: True for n, _ in chairside.CHECKLIST},
        vitals={**VITALS, "systolic_mmhg": 150, "diastolic_mmhg": 95},
        at=t,
        acting_user=nurse,
    )
    alert = Alert.objects.get(kind="predose_bp")
    with pytest.raises(Conflict):
        sessions.do_record_pump_event(
            session, "start", rate_ml_per_h=None, at=t + timedelta(minutes=2), acting_user=crna
        )
    for person in (nurse, crna):
        with pytest.raises(NotAllowed, match="prescriber's decision"):
            alerts.do_acknowledge_alert(alert, note="Rechecked 138/88, proceeding", at=t, acting_user=person)
    alerts.do_acknowledge_alert(
        alert, note="Asymptomatic, no history; proceed with BP every 10 min", at=t, acting_user=prescriber
    )
    sessions.do_record_pump_event(session, "start", rate_ml_per_h=None, at=t + timedelta(minutes=3), acting_user=crna)


def test_a_weight_re_recorded_at_half_needs_a_new_order(course, prescriber, crna, nurse, patient) -> None:
    visit = course.visits.order_by("starts_at").first()
    order = orders.do_sign_order(
        visit,
        dose_mg_per_kg=1.0,
        duration_min=40,
        concentration_mg_per_ml=1,
        at=MONDAY,
        acting_user=prescriber,
        confirm_warnings=True,  # above the course's 0.5 mg/kg step: a soft warning
    )
    intake.do_record_intake(
        patient,
        diagnoses=["trd"],
        failed_trials=[
            {"drug": "sertraline", "weeks": 8, "adequate": True},
            {"drug": "bupropion", "weeks": 8, "adequate": True},
        ],
        contraindications={},
        weight_kg="35.0",
        height_cm="170",
        vitals=VITALS,
        pregnant=False,
        consent_given=True,
        at=MONDAY + timedelta(minutes=5),
        acting_user=nurse,
        confirm_weight=True,  # half the previous weight: the plausibility check asks first
    )
    with pytest.raises(Conflict, match="re-recorded as 35 kg") as error:
        orders.do_verify_order(order, at=MONDAY + timedelta(minutes=10), acting_user=crna)
    assert "new signed order" in error.value.message


def test_a_lowered_limit_stops_an_order_already_verified(verified_order, nurse, crna, admin) -> None:
    visit = verified_order.visit
    t = visit.starts_at
    session = sessions.do_open_session(visit, at=t, acting_user=nurse)
    complete_checklist(session, items={n: True for n, _ in chairside.CHECKLIST}, vitals=VITALS, at=t, acting_user=nurse)
    clinic.do_update_clinic_rules({"max_dose_mg_per_session": 30}, acting_user=None)
    with pytest.raises(Conflict, match="hard limits"):
        sessions.do_record_pump_event(
            session, "start", rate_ml_per_h=None, at=t + timedelta(minutes=2), acting_user=crna
        )


def test_the_pump_never_runs_above_the_hourly_limit_whatever_the_allowance(running_session, crna, admin) -> None:
    clinic.do_update_clinic_rules({"rate_allowance_factor": 1.5, "max_rate_mg_per_kg_per_h": 1.0}, acting_user=None)
    order = running_session.order  # 0.5 mg/kg over 40 min = 0.75 mg/kg/h = 52.5 mL/h at 70 kg
    limit, why = sessions.max_rate_ml_per_h(order)
    assert limit == Decimal("70.0") and "1 mg/kg/h" in why
    t = running_session.started_at + timedelta(minutes=5)
    with pytest.raises(InvalidInput, match="hard limit of 1 mg/kg/h"):
        sessions.do_record_pump_event(running_session, "rate", rate_ml_per_h=75, at=t, acting_user=crna)
    sessions.do_record_pump_event(running_session, "rate", rate_ml_per_h=70, at=t, acting_user=crna)


def test_a_pump_left_running_raises_a_stop_alert_when_the_ordered_dose_is_reached(verified_order, nurse, crna) -> None:
    visit = verified_order.visit
    t = visit.starts_at
    with time_machine.travel(t, tick=False):
        session = sessions.do_open_session(visit, at=t, acting_user=nurse)
        complete_checklist(
            session, items={n: True for n, _ in chairside.CHECKLIST}, vitals=VITALS, at=t, acting_user=nurse
        )
        sessions.do_record_pump_event(session, "start", rate_ml_per_h=None, at=t, acting_user=crna)
    with time_machine.travel(t + timedelta(minutes=39), tick=False):
        run_due_jobs()
        assert not Alert.objects.filter(kind="dose_reached").exists()
    with time_machine.travel(t + timedelta(minutes=41), tick=False):
        run_due_jobs()
    alert = Alert.objects.get(kind="dose_reached")
    assert alert.severity == "stop" and "35.0 mg" in alert.message
    with time_machine.travel(t + timedelta(hours=3), tick=False):
        sessions.do_record_pump_event(session, "stop", rate_ml_per_h=None, at=t + timedelta(hours=3), acting_user=crna)
    over = Alert.objects.get(kind="dose_exceeded")
    sessions.do_record_vitals(session, VITALS, at=t + timedelta(hours=4, minutes=50), acting_user=nurse)
    assert "exceeds the ordered 35.0 mg" in over.message
    with pytest.raises(Conflict, match="acknowledged"):
        sessions.do_discharge(
            session,
            padss=[2, 2, 2, 2, 2],
            dissociation_resolved=True,
            aftercare_given=True,
            aldrete=[2] * 5,
            escort_present=True,
            at=t + timedelta(hours=5),
            acting_user=nurse,
        )


def _observing(running_session, crna):  # type: ignore[no-untyped-def]
    t = running_session.started_at
    sessions.do_record_pump_event(
        running_session, "stop", rate_ml_per_h=None, at=t + timedelta(minutes=40), acting_user=crna
    )
    running_session.refresh_from_db()
    return running_session, t


def _discharge(session, nurse, at, **kw):  # type: ignore[no-untyped-def]
    args = {
        "aldrete": [2] * 5,
        "padss": [2] * 5,
        "escort_present": True,
        "dissociation_resolved": True,
        "aftercare_given": True,
        **kw,
    }
    return sessions.do_discharge(session, at=at, acting_user=nurse, **args)


def test_no_discharge_without_vitals_after_dosing(running_session, nurse, crna) -> None:
    session, t = _observing(running_session, crna)
    with pytest.raises(Conflict, match="a full set of vital signs after dosing ended"):
        _discharge(session, nurse, t + timedelta(minutes=127))


@pytest.mark.parametrize(
    ("kw", "field"),
    [({"aldrete": [2, None, 2, 2, 2]}, "aldrete_1"), ({"padss": [2, 2, 2, 2, None]}, "padss_4")],
)
def test_an_unanswered_discharge_item_is_named(running_session, nurse, crna, kw, field) -> None:
    session, t = _observing(running_session, crna)
    sessions.do_record_vitals(session, VITALS, at=t + timedelta(minutes=100), acting_user=nurse)
    with pytest.raises(InvalidInput) as error:
        _discharge(session, nurse, t + timedelta(minutes=110), **kw)
    assert error.value.field == field


@pytest.mark.parametrize(
    ("kw", "reason"),
    [
        ({"padss": [2, 2, 1, 2, 1]}, "PADSS 8"),
        ({"dissociation_resolved": False}, "dissociation resolved"),
        ({"aftercare_given": False}, "after-care instructions given"),
    ],
)
def test_home_readiness_blocks_discharge(running_session, nurse, crna, kw, reason) -> None:
    session, t = _observing(running_session, crna)
    sessions.do_record_vitals(session, VITALS, at=t + timedelta(minutes=100), acting_user=nurse)
    with pytest.raises(Conflict, match=reason):
        _discharge(session, nurse, t + timedelta(minutes=110), **kw)


def test_low_spo2_on_room_air_blocks_discharge_even_with_aldrete_nine(running_session, nurse, crna) -> None:
    session, t = _observing(running_session, crna)
    sessions.do_record_vitals(session, {**VITALS, "spo2_percent": 91}, at=t + timedelta(minutes=100), acting_user=nurse)
    for alert in Alert.objects.filter(acknowledged_at=None):
        alerts.do_acknowledge_alert(alert, note="Rechecked, still 91 % on room air", at=t, acting_user=crna)
    with pytest.raises(Conflict, match="SpO2 91 % on room air"):
        _discharge(session, nurse, t + timedelta(minutes=110), aldrete=[2, 2, 2, 2, 1])


def test_a_severe_side_effect_alerts_the_prescriber(running_session, nurse, crna, prescriber) -> None:
    t = running_session.started_at
    assert {"chest_pain", "urinary", "respiratory_depression"} <= {c for c, _ in chairside.SIDE_EFFECTS}
    sessions.do_record_side_effect(
        running_session, "nausea_vomiting", "severe", note="ondansetron given", at=t, acting_user=nurse
    )
    alert = Alert.objects.get(kind="side_effect")
    assert "Severe side effect: Nausea and vomiting" in alert.message
    with pytest.raises(NotAllowed):
        alerts.do_acknowledge_alert(alert, note="Settled after ondansetron", at=t, acting_user=nurse)
    alerts.do_acknowledge_alert(alert, note="Reviewed; settled after ondansetron", at=t, acting_user=prescriber)
    with pytest.raises(InvalidInput, match="at most 300"):
        sessions.do_record_side_effect(running_session, "other", "mild", note="x" * 301, at=t, acting_user=nurse)


@pytest.mark.parametrize(
    ("instrument", "answers"),
    [("bprs_positive", [4, 1, 1, 1]), ("cadss", [1] * 23)],
)
def test_psychotic_symptoms_or_marked_dissociation_block_discharge_until_a_prescriber_reviews(
    running_session, nurse, crna, prescriber, instrument, answers
) -> None:
    from ketamine_clinic.services import measures

    session, t = _observing(running_session, crna)
    measures.do_record_assessment(
        session.patient, instrument, answers, at=t + timedelta(minutes=90), acting_user=nurse, session=session
    )
    alert = Alert.objects.get(kind="psychotomimetic")
    sessions.do_record_vitals(session, VITALS, at=t + timedelta(minutes=100), acting_user=nurse)
    with pytest.raises(Conflict, match="acknowledged"):
        _discharge(session, nurse, t + timedelta(minutes=110))
    with pytest.raises(NotAllowed):
        alerts.do_acknowledge_alert(alert, note="Looks settled to me now", at=t, acting_user=nurse)
    alerts.do_acknowledge_alert(
        alert, note="Reviewed at the chair; oriented, calm, resolved", at=t, acting_user=prescriber
    )
    _discharge(session, nurse, t + timedelta(minutes=110))
