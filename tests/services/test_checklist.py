"""The pre-dose checklist follows the route, the questionnaire item is backed by today's
records, and a pump stopped before the ordered dose needs a reason."""

from __future__ import annotations

from datetime import timedelta

import pytest

from ketamine_clinic.domain import chairside
from ketamine_clinic.services import courses, intake, measures, orders, sessions
from ketamine_clinic.services.errors import InvalidInput
from ketamine_clinic.storage.models import PumpEvent
from tests.conftest import MONDAY, VITALS, screen_today
from tests.support.rems import rems_ready


def _iv_session(verified_order, nurse):  # type: ignore[no-untyped-def]
    visit = verified_order.visit
    return sessions.do_open_session(visit, at=visit.starts_at, acting_user=nurse)


def _nasal_session(recorded_intake, prescriber, nurse, patient):  # type: ignore[no-untyped-def]
    intake.do_decide_eligibility(recorded_intake, decision="eligible", note="", at=MONDAY, acting_user=prescriber)
    rems_ready(patient, prescriber, MONDAY)
    course = courses.do_plan_course(
        patient, protocol="esketamine_trd", start_date=MONDAY.date(), at=MONDAY, acting_user=prescriber
    )
    visit = course.visits.order_by("starts_at").first()
    order = orders.do_sign_nasal_order(visit, dose_mg=56, at=MONDAY, acting_user=prescriber)
    orders.do_verify_order(order, at=MONDAY, acting_user=nurse)
    return sessions.do_open_session(visit, at=visit.starts_at, acting_user=nurse)


def _ticks(route: str) -> dict[str, bool]:
    return {name: True for name, _ in chairside.checklist_for(route)}


def test_a_nasal_checklist_has_no_iv_line_and_completes_without_it(
    recorded_intake, prescriber, nurse, patient, chairs
) -> None:
    session = _nasal_session(recorded_intake, prescriber, nurse, patient)
    names = [n for n, _ in chairside.checklist_for("nasal")]
    assert "iv_access" not in names and "nasal_prep" in names
    t = session.visit.starts_at
    screen_today(patient, t, nurse)
    sessions.do_complete_checklist(session, items=_ticks("nasal"), vitals=VITALS, at=t, acting_user=nurse)
    session.refresh_from_db()
    assert session.status == "ready" and "iv_access" not in session.checklist and session.checklist["nasal_prep"]


def test_a_nasal_checklist_refuses_without_its_own_nasal_item(
    recorded_intake, prescriber, nurse, patient, chairs
) -> None:
    session = _nasal_session(recorded_intake, prescriber, nurse, patient)
    t = session.visit.starts_at
    screen_today(patient, t, nurse)
    ticks = {**_ticks("nasal"), "nasal_prep": False, "iv_access": True}
    with pytest.raises(InvalidInput, match="nasal steroid") as error:
        sessions.do_complete_checklist(session, items=ticks, vitals=VITALS, at=t, acting_user=nurse)
    assert error.value.field == "nasal_prep"


def test_an_iv_checklist_still_needs_the_iv_line(verified_order, nurse, patient) -> None:
    session = _iv_session(verified_order, nurse)
    t = session.visit.starts_at
    screen_today(patient, t, nurse)
    with pytest.raises(InvalidInput, match="IV access") as error:
        sessions.do_complete_checklist(
            session, items={**_ticks("iv"), "iv_access": False}, vitals=VITALS, at=t, acting_user=nurse
        )
    assert error.value.field == "iv_access"


def test_the_questionnaire_tick_is_refused_without_a_phq9_recorded_today(verified_order, nurse, patient) -> None:
    session = _iv_session(verified_order, nurse)
    t = session.visit.starts_at
    # the course fixture's PHQ-9 is six days old: it does not count for today
    screen_today(patient, t - timedelta(days=1), nurse)
    with pytest.raises(InvalidInput, match="No PHQ-9 is recorded for this patient today") as error:
        sessions.do_complete_checklist(session, items=_ticks("iv"), vitals=VITALS, at=t, acting_user=nurse)
    assert error.value.field == "questionnaire"
    session.refresh_from_db()
    assert session.status == "checklist"
    screen_today(patient, t - timedelta(minutes=10), nurse)
    sessions.do_complete_checklist(session, items=_ticks("iv"), vitals=VITALS, at=t, acting_user=nurse)
    session.refresh_from_db()
    assert session.status == "ready"


def test_a_positive_item_9_needs_todays_cssrs_before_the_tick(verified_order, nurse, prescriber, patient) -> None:
    session = _iv_session(verified_order, nurse)
    t = session.visit.starts_at
    screen_today(patient, t - timedelta(minutes=20), nurse, answers=(1, 1, 1, 1, 1, 1, 1, 1, 1))
    with pytest.raises(InvalidInput, match="C-SSRS") as error:
        sessions.do_complete_checklist(session, items=_ticks("iv"), vitals=VITALS, at=t, acting_user=nurse)
    assert error.value.field == "questionnaire"
    measures.do_record_assessment(
        patient, "cssrs_screen", [0, 0, None, None, None, 0, None], at=t - timedelta(minutes=5), acting_user=prescriber
    )
    sessions.do_complete_checklist(session, items=_ticks("iv"), vitals=VITALS, at=t, acting_user=nurse)
    session.refresh_from_db()
    assert session.status == "ready"


def test_a_stop_before_the_ordered_dose_needs_a_reason_and_keeps_it(running_session, crna) -> None:
    t = running_session.started_at
    assert sessions.early_stop_problem(running_session, at=t + timedelta(minutes=10))
    with pytest.raises(InvalidInput, match="Stopping early") as error:
        sessions.do_record_pump_event(
            running_session, "stop", rate_ml_per_h=None, at=t + timedelta(minutes=10), acting_user=crna
        )
    assert error.value.field == "stop_reason"
    assert not PumpEvent.objects.filter(session=running_session, kind="stop").exists()
    sessions.do_record_pump_event(
        running_session,
        "stop",
        rate_ml_per_h=None,
        at=t + timedelta(minutes=10),
        acting_user=crna,
        reason="Nausea despite ondansetron; patient asked to stop",
    )
    stop = PumpEvent.objects.get(session=running_session, kind="stop")
    assert stop.note.startswith("Nausea despite")


def test_a_stop_once_the_ordered_dose_has_run_in_needs_no_reason(running_session, crna) -> None:
    t = running_session.started_at
    at = t + timedelta(minutes=running_session.order.duration_min)
    assert sessions.early_stop_problem(running_session, at=at) is None
    sessions.do_record_pump_event(running_session, "stop", rate_ml_per_h=None, at=at, acting_user=crna)
    running_session.refresh_from_db()
    assert running_session.status == "observing"


def test_the_screener_must_follow_the_positive_phq9_and_a_later_phq9_does_not_undo_it(
    verified_order, nurse, prescriber, patient
) -> None:
    from ketamine_clinic.services import checklist

    session = _iv_session(verified_order, nurse)
    t = session.visit.starts_at
    cssrs = [0, 0, None, None, None, 0, None]
    measures.do_record_assessment(patient, "cssrs_screen", cssrs, at=t - timedelta(minutes=40), acting_user=prescriber)
    screen_today(patient, t - timedelta(minutes=30), nurse, answers=(1, 1, 1, 1, 1, 1, 1, 1, 2))
    screen_today(patient, t - timedelta(minutes=20), nurse)  # item 9 "not at all" this time
    problem = checklist.todays_screen_problem(patient, at=t)
    assert problem is not None and "item 9" in problem  # the earlier screener did not assess the later answer
    measures.do_record_assessment(patient, "cssrs_screen", cssrs, at=t - timedelta(minutes=10), acting_user=prescriber)
    assert checklist.todays_screen_problem(patient, at=t) is None
    assert checklist.todays_screen_problem(patient, at=t - timedelta(minutes=35)) is not None  # nothing yet then


def test_a_phq9_recorded_after_the_checklist_time_does_not_count(verified_order, nurse, patient) -> None:
    from ketamine_clinic.services import checklist

    session = _iv_session(verified_order, nurse)
    t = session.visit.starts_at
    screen_today(patient, t + timedelta(minutes=30), nurse)
    assert "No PHQ-9" in (checklist.todays_screen_problem(patient, at=t) or "")


def test_the_fasting_tick_is_refused_when_the_pre_procedure_record_says_the_patient_just_ate(
    verified_order, nurse, patient
) -> None:
    from ketamine_clinic.services import preprocedure

    session = _iv_session(verified_order, nurse)
    t = session.visit.starts_at
    screen_today(patient, t - timedelta(minutes=20), nurse)

    def record(solids, clear):  # type: ignore[no-untyped-def]
        preprocedure.do_record_pre_procedure(
            patient, allergies=[], no_known_allergies=True, medications=[], asa_class="2", airway_note="",
            npo_solids_since=solids, npo_clear_since=clear, escort_name="Sam Example", escort_phone="+1 555 0100",
            diagnoses=["F33.2"], at=t - timedelta(minutes=5), acting_user=nurse,
        )  # fmt: skip

    record(t - timedelta(minutes=12), t - timedelta(hours=3))
    with pytest.raises(InvalidInput, match="last food") as error:
        sessions.do_complete_checklist(session, items=_ticks("iv"), vitals=VITALS, at=t, acting_user=nurse)
    assert error.value.field == "fasting"
    record(t - timedelta(hours=4), t - timedelta(minutes=7))
    with pytest.raises(InvalidInput, match="last liquids"):
        sessions.do_complete_checklist(session, items=_ticks("iv"), vitals=VITALS, at=t, acting_user=nurse)
    record(t - timedelta(hours=4), t - timedelta(minutes=45))
    sessions.do_complete_checklist(session, items=_ticks("iv"), vitals=VITALS, at=t, acting_user=nurse)
