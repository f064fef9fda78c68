"""One patient's journey through the services, with the safety rules on each step."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest

from ketamine_clinic.domain import chairside
from ketamine_clinic.services import alerts, courses, intake, measures, orders, schedule, sessions
from ketamine_clinic.services.errors import Conflict, InvalidInput, NotAllowed
from ketamine_clinic.storage.models import Alert, AuditEvent, EventType, Order, Visit, VitalSign
from tests.conftest import MONDAY, VITALS, close_with_assessment, complete_checklist
from tests.support.rems import rems_on_site, rems_ready


def test_intake_runs_the_screen_and_keeps_its_reasons(recorded_intake) -> None:
    assert recorded_intake.screen_status == "eligible"
    assert any("2 adequate failed trials" in r["text"] for r in recorded_intake.screen_reasons)
    assert all(r["source"].startswith("[S") for r in recorded_intake.screen_reasons)


def test_an_absolute_contraindication_makes_the_patient_not_eligible(patient, nurse, prescriber) -> None:
    row = intake.do_record_intake(
        patient,
        diagnoses=["trd"],
        failed_trials=[],
        contraindications={"aneurysm_avm": True},
        weight_kg=70,
        height_cm="170",
        vitals=VITALS,
        pregnant=False,
        consent_given=True,
        at=MONDAY,
        acting_user=nurse,
    )
    assert row.screen_status == "not_eligible"
    with pytest.raises(Conflict):
        intake.do_decide_eligibility(
            row, decision="eligible", note="I disagree strongly", at=MONDAY, acting_user=prescriber
        )


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("weight_kg", "12", "weight kg must be from 30 to 250 kg"),
        ("weight_kg", "heavy", "weight kg must be from 30 to 250 kg"),
    ],
)
def test_bad_intake_input_names_the_field_and_range(patient, nurse, field, value, message) -> None:
    with pytest.raises(InvalidInput, match=message) as error:
        intake.do_record_intake(
            patient,
            diagnoses=["trd"],
            failed_trials=[],
            contraindications={},
            vitals=VITALS,
            pregnant=False,
            consent_given=True,
            at=MONDAY,
            acting_user=nurse,
            **{field: value},
        )
    assert error.value.field == field
    assert not patient.intakes.exists()


def test_a_front_desk_user_cannot_record_an_intake(patient, front_desk) -> None:
    with pytest.raises(NotAllowed):
        intake.do_record_intake(
            patient,
            diagnoses=["trd"],
            failed_trials=[],
            contraindications={},
            weight_kg=70,
            height_cm="170",
            vitals=VITALS,
            pregnant=False,
            consent_given=True,
            at=MONDAY,
            acting_user=front_desk,
        )


def test_planning_books_six_spaced_visits_on_free_chairs(course) -> None:
    visits = list(course.visits.order_by("starts_at"))
    assert len(visits) == 6
    gaps = [(b.starts_at - a.starts_at) for a, b in zip(visits, visits[1:], strict=False)]
    assert min(gaps) >= timedelta(hours=40)
    assert all(v.starts_at.weekday() < 5 for v in visits)


def test_a_second_course_never_double_books_a_chair(course, prescriber, nurse, stranger, chairs) -> None:
    intake_row = intake.do_record_intake(
        stranger,
        diagnoses=["trd"],
        failed_trials=[{"adequate": True}, {"adequate": True}],
        contraindications={},
        weight_kg=80,
        height_cm="170",
        vitals=VITALS,
        pregnant=False,
        consent_given=True,
        at=MONDAY - timedelta(days=7),
        acting_user=nurse,
    )
    intake.do_decide_eligibility(intake_row, decision="eligible", note="", at=MONDAY, acting_user=prescriber)
    other = courses.do_plan_course(
        stranger,
        protocol="iv_racemic_depression",
        start_date=MONDAY.date(),
        start_time=course.visits.first().starts_at.time(),
        chair=chairs[0],
        at=MONDAY,
        acting_user=prescriber,
    )
    for visit in Visit.objects.exclude(status="cancelled"):
        clash = (
            Visit.objects.filter(chair=visit.chair, starts_at__lt=visit.ends_at, ends_at__gt=visit.starts_at)
            .exclude(status="cancelled")
            .exclude(pk=visit.pk)
        )
        assert not clash.exists()
    assert other.visits.count() == 6


def test_rescheduling_onto_a_busy_chair_or_too_close_is_refused(course, front_desk, chairs) -> None:
    first, second = list(course.visits.order_by("starts_at"))[:2]
    with pytest.raises(Conflict, match="at least 40 hours apart"):
        schedule.do_reschedule_visit(
            second, first.starts_at + timedelta(hours=24), reason="patient asked", at=MONDAY, acting_user=front_desk
        )
    last = course.visits.order_by("-starts_at").first()
    assert last.starts_at.weekday() == 4  # a Friday: the next day the clinic is closed
    with pytest.raises(InvalidInput, match="closed on Saturdays"):
        schedule.do_reschedule_visit(
            last, last.starts_at + timedelta(days=1), reason="patient asked", at=MONDAY, acting_user=front_desk
        )
    moved = schedule.do_reschedule_visit(
        last, last.starts_at + timedelta(days=3), reason="patient asked", at=MONDAY, acting_user=front_desk
    )
    assert Visit.objects.get(pk=last.pk).starts_at == moved.starts_at
    schedule.do_cancel_visit(moved, reason="flu", acting_user=front_desk)
    assert Visit.objects.get(pk=moved.pk).status == "cancelled"


def test_the_order_comes_from_the_latest_weight(verified_order) -> None:
    assert verified_order.dose_mg == Decimal("35.0")
    assert verified_order.rate_ml_per_h == Decimal("52.5")


def test_no_path_saves_a_dose_above_the_hard_limit(course, prescriber) -> None:
    visit = course.visits.first()
    with pytest.raises(InvalidInput, match="dose mg per kg must be from") as error:
        orders.do_sign_order(
            visit, dose_mg_per_kg=2.0, duration_min=40, concentration_mg_per_ml=1, at=MONDAY, acting_user=prescriber
        )
    assert error.value.field == "dose_mg_per_kg"
    assert not Order.objects.exists()


def test_the_signer_cannot_verify_and_an_rn_cannot_sign(course, prescriber, nurse) -> None:
    visit = course.visits.first()
    with pytest.raises(NotAllowed):
        orders.do_sign_order(
            visit, dose_mg_per_kg=0.5, duration_min=40, concentration_mg_per_ml=1, at=MONDAY, acting_user=nurse
        )
    order = orders.do_sign_order(
        visit, dose_mg_per_kg=0.5, duration_min=40, concentration_mg_per_ml=1, at=MONDAY, acting_user=prescriber
    )
    with pytest.raises(NotAllowed):
        orders.do_verify_order(order, at=MONDAY, acting_user=prescriber)


def test_a_session_needs_a_verified_order(course, prescriber, nurse) -> None:
    visit = course.visits.first()
    orders.do_sign_order(
        visit, dose_mg_per_kg=0.5, duration_min=40, concentration_mg_per_ml=1, at=MONDAY, acting_user=prescriber
    )
    with pytest.raises(Conflict, match="verified by a second clinician"):
        sessions.do_open_session(visit, at=MONDAY, acting_user=nurse)


def test_the_pump_cannot_start_before_the_checklist(verified_order, nurse, crna) -> None:
    session = sessions.do_open_session(verified_order.visit, at=MONDAY, acting_user=nurse)
    with pytest.raises(Conflict, match="Cannot start"):
        sessions.do_record_pump_event(session, "start", rate_ml_per_h=None, at=MONDAY, acting_user=crna)
    with pytest.raises(InvalidInput, match="not confirmed"):
        sessions.do_complete_checklist(session, items={}, vitals=VITALS, at=MONDAY, acting_user=nurse)


def test_the_pump_rate_cannot_exceed_the_order(running_session, crna) -> None:
    with pytest.raises(InvalidInput, match="rate must be from 0 to 52.5 mL/h") as error:
        sessions.do_record_pump_event(
            running_session, "rate", rate_ml_per_h=80, at=MONDAY + timedelta(hours=1, minutes=20), acting_user=crna
        )
    assert error.value.field == "rate_ml_per_h"


def test_a_high_reading_raises_an_alert_that_blocks_until_acknowledged(running_session, nurse, crna) -> None:
    t = running_session.started_at
    sessions.do_record_vitals(
        running_session,
        {**VITALS, "systolic_mmhg": 185, "diastolic_mmhg": 95},
        at=t + timedelta(minutes=10),
        acting_user=nurse,
    )
    alert = Alert.objects.get(kind="vital_sign", severity="pause")
    assert alert.severity == "pause" and alert.acknowledged_at is None
    sessions.do_record_pump_event(
        running_session, "pause", rate_ml_per_h=None, at=t + timedelta(minutes=11), acting_user=crna
    )
    with pytest.raises(Conflict, match="must be acknowledged"):
        sessions.do_record_pump_event(
            running_session, "resume", rate_ml_per_h=None, at=t + timedelta(minutes=15), acting_user=crna
        )
    alerts.do_acknowledge_alert(
        alert, note="Rechecked after 5 min, 150/88", at=t + timedelta(minutes=16), acting_user=crna
    )
    for notice in Alert.objects.filter(acknowledged_at=None):
        alerts.do_acknowledge_alert(notice, note="Seen; rechecking now", at=t + timedelta(minutes=16), acting_user=crna)
    with pytest.raises(Conflict, match="still at a pause level: record a new reading"):
        sessions.do_record_pump_event(
            running_session, "resume", rate_ml_per_h=None, at=t + timedelta(minutes=17), acting_user=crna
        )
    sessions.do_record_vitals(
        running_session,
        {**VITALS, "systolic_mmhg": 150, "diastolic_mmhg": 88},
        at=t + timedelta(minutes=17),
        acting_user=nurse,
    )
    sessions.do_record_pump_event(
        running_session, "resume", rate_ml_per_h=None, at=t + timedelta(minutes=18), acting_user=crna
    )


def test_a_correction_is_a_new_entry_and_the_original_stays(running_session, nurse) -> None:
    t = running_session.started_at
    wrong = sessions.do_record_vitals(
        running_session, {**VITALS, "heart_rate_bpm": 140}, at=t + timedelta(minutes=10), acting_user=nurse
    )
    fixed = sessions.do_amend_vitals(
        wrong,
        {**VITALS, "heart_rate_bpm": 74},
        reason="typo: 74 not 140",
        at=t + timedelta(minutes=12),
        acting_user=nurse,
    )
    wrong.refresh_from_db()
    assert wrong.heart_rate_bpm == 140 and fixed.amends == wrong
    assert [v.pk for v in sessions.current_entries(VitalSign, running_session)].count(wrong.pk) == 0
    assert AuditEvent.objects.filter(event_type=EventType.ENTRY_AMENDED).exists()
    with pytest.raises(Conflict):
        sessions.do_amend_vitals(wrong, VITALS, reason="again", at=t, acting_user=nurse)


def test_discharge_needs_aldrete_escort_time_and_no_open_alert(
    running_session, nurse, crna, patient, prescriber
) -> None:
    t = running_session.started_at
    sessions.do_record_pump_event(
        running_session, "stop", rate_ml_per_h=None, at=t + timedelta(minutes=40), acting_user=crna
    )
    running_session.refresh_from_db()
    assert running_session.administered_mg == Decimal("35.0")
    with pytest.raises(Conflict, match="a full set of vital signs after dosing ended"):
        sessions.do_discharge(
            running_session,
            padss=[2, 2, 2, 2, 2],
            dissociation_resolved=True,
            aftercare_given=True,
            aldrete=[2] * 5,
            escort_present=True,
            at=t + timedelta(minutes=110),
            acting_user=nurse,
        )
    sessions.do_record_vitals(running_session, VITALS, at=t + timedelta(minutes=58), acting_user=nurse)
    with pytest.raises(Conflict, match="observed 20 min of 60"):
        sessions.do_discharge(
            running_session,
            padss=[2, 2, 2, 2, 2],
            dissociation_resolved=True,
            aftercare_given=True,
            aldrete=[2] * 5,
            escort_present=True,
            at=t + timedelta(minutes=60),
            acting_user=nurse,
        )
    with pytest.raises(Conflict, match="no escort"):
        sessions.do_discharge(
            running_session,
            padss=[2, 2, 2, 2, 2],
            dissociation_resolved=True,
            aftercare_given=True,
            aldrete=[2] * 5,
            escort_present=False,
            at=t + timedelta(minutes=110),
            acting_user=nurse,
        )
    sessions.do_record_vitals(running_session, VITALS, at=t + timedelta(minutes=100), acting_user=nurse)
    measures.do_record_assessment(patient, "phq9", [1, 1, 1, 1, 1, 1, 1, 1, 1], at=t, acting_user=nurse)
    with pytest.raises(Conflict, match="acknowledged"):
        sessions.do_discharge(
            running_session,
            padss=[2, 2, 2, 2, 2],
            dissociation_resolved=True,
            aftercare_given=True,
            aldrete=[2] * 5,
            escort_present=True,
            at=t + timedelta(minutes=110),
            acting_user=nurse,
        )
    with pytest.raises(NotAllowed):
        alerts.do_acknowledge_alert(
            Alert.objects.get(kind="suicide_risk"),
            note="C-SSRS done: low risk; safety plan",
            at=t + timedelta(minutes=100),
            acting_user=nurse,
        )
    close_with_assessment(Alert.objects.get(kind="suicide_risk"), prescriber, t + timedelta(minutes=100))
    done = sessions.do_discharge(
        running_session,
        padss=[2, 2, 2, 2, 2],
        dissociation_resolved=True,
        aftercare_given=True,
        aldrete=[2] * 5,
        escort_present=True,
        at=t + timedelta(minutes=110),
        acting_user=nurse,
    )
    assert done.status == "discharged" and done.visit.status == "done"


def test_phq9_item9_raises_an_urgent_alert_only_a_prescribers_assessment_closes(
    patient, patient_user, front_desk, nurse, crna, admin, prescriber
) -> None:
    measures.do_record_assessment(patient, "phq9", [0, 0, 0, 0, 0, 0, 0, 0, 2], at=MONDAY, acting_user=patient_user)
    alert = alerts.open_alerts(patient).get()
    assert alert.severity == "urgent" and "item 9 = 2" in alert.message
    for person in (front_desk, nurse, crna, admin):
        with pytest.raises(NotAllowed):
            alerts.do_acknowledge_alert(alert, note="ok. seen it, fine", at=MONDAY, acting_user=person)
    close_with_assessment(alert, prescriber, MONDAY)
    alert.refresh_from_db()
    assert alert.acknowledged_by == prescriber and "Safe to treat today" in alert.acknowledgement
    with pytest.raises(Conflict):
        close_with_assessment(alert, prescriber, MONDAY)


def test_a_patient_completes_only_their_own_self_report(patient, stranger, patient_user) -> None:
    with pytest.raises(NotAllowed):
        measures.do_record_assessment(stranger, "phq9", [0] * 9, at=MONDAY, acting_user=patient_user)
    with pytest.raises(NotAllowed):
        measures.do_record_assessment(patient, "madrs", [0] * 10, at=MONDAY, acting_user=patient_user)
    with pytest.raises(InvalidInput, match="item 3") as error:
        measures.do_record_assessment(patient, "phq9", [0, 0, 7, 0, 0, 0, 0, 0, 0], at=MONDAY, acting_user=patient_user)
    assert error.value.field == "item_3"


def _complete(visit, prescriber, crna, nurse, patient, score: int) -> None:  # type: ignore[no-untyped-def]
    t = visit.starts_at
    measures.do_record_assessment(
        patient,
        "phq9",
        [min(3, score // 8 + (i < score % 8)) for i in range(8)] + [0],
        at=t - timedelta(minutes=30),
        acting_user=nurse,
        visit=visit,
    )
    order = orders.do_sign_order(
        visit,
        dose_mg_per_kg=0.5,
        duration_min=40,
        concentration_mg_per_ml=1,
        at=t - timedelta(hours=2),
        acting_user=prescriber,
    )
    orders.do_verify_order(order, at=t - timedelta(hours=1), acting_user=crna)
    session = sessions.do_open_session(visit, at=t, acting_user=nurse)
    complete_checklist(session, items={n: True for n, _ in chairside.CHECKLIST}, vitals=VITALS, at=t, acting_user=nurse)
    sessions.do_record_pump_event(session, "start", rate_ml_per_h=None, at=t + timedelta(minutes=1), acting_user=crna)
    sessions.do_record_pump_event(session, "stop", rate_ml_per_h=None, at=t + timedelta(minutes=41), acting_user=crna)
    sessions.do_record_vitals(session, VITALS, at=t + timedelta(minutes=90), acting_user=nurse)
    sessions.do_discharge(
        session,
        padss=[2, 2, 2, 2, 2],
        dissociation_resolved=True,
        aftercare_given=True,
        aldrete=[2] * 5,
        escort_present=True,
        at=t + timedelta(minutes=105),
        acting_user=nurse,
    )


def test_after_six_infusions_a_responder_is_offered_maintenance(course, prescriber, crna, nurse, patient) -> None:
    for visit, score in zip(course.visits.order_by("starts_at"), (14, 12, 10, 8, 7, 6), strict=True):
        assert not courses.decision_due(course)
        _complete(visit, prescriber, crna, nurse, patient, score)
    assert courses.decision_due(course)
    suggestion = courses.evaluate_induction(course)
    assert suggestion.decision == "maintenance" and 2 <= suggestion.interval_weeks <= 6
    with pytest.raises(InvalidInput, match="reason"):
        courses.do_decide_induction(course, decision="refer", at=MONDAY + timedelta(days=20), acting_user=prescriber)
    courses.do_decide_induction(
        course,
        decision="maintenance",
        next_visit_weeks=suggestion.interval_weeks,
        at=MONDAY + timedelta(days=20),
        acting_user=prescriber,
    )
    course.refresh_from_db()
    assert course.status == "maintenance"
    booster = course.visits.get(phase="maintenance")
    last = course.visits.filter(phase="induction").order_by("-starts_at").first()
    assert timedelta(weeks=2) <= booster.starts_at - last.starts_at <= timedelta(weeks=6, days=3)


def test_after_six_infusions_a_non_responder_is_referred(course, prescriber, crna, nurse, patient) -> None:
    for visit in course.visits.order_by("starts_at"):
        _complete(visit, prescriber, crna, nurse, patient, 15)
    suggestion = courses.evaluate_induction(course)
    assert suggestion.decision == "refer"
    courses.do_decide_induction(course, decision="refer", at=MONDAY + timedelta(days=20), acting_user=prescriber)
    course.refresh_from_db()
    assert course.status == "referred"


def test_a_done_visit_still_occupies_its_chair(course, chairs) -> None:
    visit = course.visits.order_by("starts_at").first()
    Visit.objects.filter(pk=visit.pk).update(status="done")
    assert not schedule.chair_is_free(visit.chair, visit.starts_at, visit.ends_at)
    Visit.objects.filter(pk=visit.pk).update(status="cancelled")
    assert schedule.chair_is_free(visit.chair, visit.starts_at, visit.ends_at)


def test_an_esketamine_course_runs_in_devices_with_two_hours_of_observation(
    recorded_intake, prescriber, crna, nurse, patient, chairs
) -> None:
    intake.do_decide_eligibility(recorded_intake, decision="eligible", note="", at=MONDAY, acting_user=prescriber)
    course = courses.do_plan_course(
        patient, protocol="esketamine_trd", start_date=MONDAY.date(), at=MONDAY, acting_user=prescriber
    )
    assert course.visits.count() == 8 and course.dose_mg_per_kg == 0
    visit = course.visits.order_by("starts_at").first()
    rems_ready(patient, prescriber, MONDAY)
    with pytest.raises(Conflict, match="nasal-spray order"):
        orders.do_sign_order(
            visit, dose_mg_per_kg=0.5, duration_min=40, concentration_mg_per_ml=1, at=MONDAY, acting_user=prescriber
        )
    with pytest.raises(InvalidInput, match="first esketamine dose must be 56") as error:
        orders.do_sign_nasal_order(visit, dose_mg=84, at=MONDAY, acting_user=prescriber)
    assert error.value.field == "dose_mg"
    order = orders.do_sign_nasal_order(visit, dose_mg=56, at=MONDAY, acting_user=prescriber)
    assert (order.route, order.devices, order.dose_mg) == ("nasal", 2, Decimal("56"))
    orders.do_verify_order(order, at=MONDAY, acting_user=nurse)
    t = visit.starts_at
    session = sessions.do_open_session(visit, at=t, acting_user=nurse)
    rems_on_site(session, prescriber, session.opened_at)
    complete_checklist(session, items={n: True for n, _ in chairside.CHECKLIST}, vitals=VITALS, at=t, acting_user=nurse)
    with pytest.raises(Conflict, match="record each device"):
        sessions.do_record_pump_event(session, "start", rate_ml_per_h=None, at=t, acting_user=crna)
    sessions.do_give_nasal_device(session, at=t + timedelta(minutes=1), acting_user=crna)
    with pytest.raises(Conflict, match="5 minutes apart"):
        sessions.do_give_nasal_device(session, at=t + timedelta(minutes=4), acting_user=crna)
    sessions.do_give_nasal_device(session, at=t + timedelta(minutes=6), acting_user=crna)
    session.refresh_from_db()
    assert session.status == "observing" and session.administered_mg == Decimal("56")
    sessions.do_record_vitals(session, VITALS, at=t + timedelta(minutes=46), acting_user=nurse)
    with pytest.raises(Conflict, match="observed 94 min of 120"):
        sessions.do_discharge(
            session,
            padss=[2, 2, 2, 2, 2],
            dissociation_resolved=True,
            aftercare_given=True,
            aldrete=[2] * 5,
            escort_present=True,
            at=t + timedelta(minutes=100),
            acting_user=nurse,
        )
    with pytest.raises(Conflict, match="a full set of vital signs after dosing ended"):  # the BP before leaving
        sessions.do_discharge(
            session,
            padss=[2, 2, 2, 2, 2],
            dissociation_resolved=True,
            aftercare_given=True,
            aldrete=[2] * 5,
            escort_present=True,
            at=t + timedelta(minutes=130),
            acting_user=nurse,
        )
    sessions.do_record_vitals(session, VITALS, at=t + timedelta(minutes=125), acting_user=nurse)
    sessions.do_discharge(
        session,
        padss=[2, 2, 2, 2, 2],
        dissociation_resolved=True,
        aftercare_given=True,
        aldrete=[2] * 5,
        escort_present=True,
        at=t + timedelta(minutes=130),
        acting_user=nurse,
    )
    second = course.visits.order_by("starts_at")[1]
    assert orders.do_sign_nasal_order(second, dose_mg=84, at=MONDAY, acting_user=prescriber).devices == 3
