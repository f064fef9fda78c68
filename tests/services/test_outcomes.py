"""services.outcomes: the Today board, the chart overview and the clinic's outcomes, in a
fixed number of queries however many patients are on the books."""

from __future__ import annotations

from datetime import date, time, timedelta

from ketamine_clinic.domain import chairside
from ketamine_clinic.services import courses, intake, measures, orders, outcomes, sessions
from ketamine_clinic.services.patients import do_create_patient
from tests.conftest import MONDAY, VITALS


def _patient_in_the_chair(n: int, *, prescriber, nurse, crna, start: time):  # type: ignore[no-untyped-def]
    patient = do_create_patient(
        mrn=f"Q-{n:04d}",
        given_name="Quinn",
        family_name=f"Number{n}",
        birth_date=date(1970 + n, 3, 4),
        sex="female",
        at=MONDAY - timedelta(days=30),
        acting_user=None,
    )
    row = intake.do_record_intake(
        patient,
        diagnoses=["trd"],
        failed_trials=[
            {"drug": "sertraline", "weeks": 8, "adequate": True},
            {"drug": "bupropion", "weeks": 8, "adequate": True},
        ],
        contraindications={},
        weight_kg="70.0",
        height_cm="170",
        vitals=VITALS,
        pregnant=False,
        consent_given=True,
        at=MONDAY - timedelta(days=7),
        acting_user=nurse,
    )
    intake.do_decide_eligibility(
        row, decision="eligible", note="", at=MONDAY - timedelta(days=6), acting_user=prescriber
    )
    measures.do_record_assessment(patient, "phq9", [2] * 8 + [0], at=MONDAY - timedelta(days=6), acting_user=nurse)
    course = courses.do_plan_course(
        patient,
        protocol="iv_racemic_depression",
        start_date=MONDAY.date(),
        start_time=start,
        baseline_score=16,
        at=MONDAY - timedelta(days=5),
        acting_user=prescriber,
    )
    visit = course.visits.order_by("starts_at").first()
    order = orders.do_sign_order(
        visit,
        dose_mg_per_kg=0.5,
        duration_min=40,
        concentration_mg_per_ml=1,
        at=MONDAY - timedelta(days=1),
        acting_user=prescriber,
    )
    orders.do_verify_order(order, at=MONDAY - timedelta(hours=20), acting_user=crna)
    session = sessions.do_open_session(visit, at=visit.starts_at, acting_user=nurse)
    sessions.do_complete_checklist(
        session, items={k: True for k, _ in chairside.CHECKLIST}, vitals=VITALS, at=visit.starts_at, acting_user=nurse
    )
    return patient


def _queries(fn):  # type: ignore[no-untyped-def]
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as ctx:
        fn()
    return len(ctx.captured_queries)


def test_the_today_board_costs_the_same_queries_for_one_patient_or_three(prescriber, nurse, crna, chairs) -> None:
    _patient_in_the_chair(1, prescriber=prescriber, nurse=nurse, crna=crna, start=time(9, 0))
    one = _queries(lambda: outcomes.clinic_day(MONDAY.date(), MONDAY + timedelta(hours=2)))
    _patient_in_the_chair(2, prescriber=prescriber, nurse=nurse, crna=crna, start=time(11, 0))
    _patient_in_the_chair(3, prescriber=prescriber, nurse=nurse, crna=crna, start=time(13, 0))
    board = outcomes.clinic_day(MONDAY.date(), MONDAY + timedelta(hours=2))
    assert len(board["rows"]) == 3
    three = _queries(lambda: outcomes.clinic_day(MONDAY.date(), MONDAY + timedelta(hours=2)))
    assert one == three == 6


def test_the_outcomes_summary_costs_the_same_queries_for_one_course_or_three(prescriber, nurse, crna, chairs) -> None:
    _patient_in_the_chair(1, prescriber=prescriber, nurse=nurse, crna=crna, start=time(9, 0))
    one = _queries(outcomes.outcomes_summary)
    _patient_in_the_chair(2, prescriber=prescriber, nurse=nurse, crna=crna, start=time(11, 0))
    _patient_in_the_chair(3, prescriber=prescriber, nurse=nurse, crna=crna, start=time(13, 0))
    summary = outcomes.outcomes_summary()
    assert summary["courses"] == 3
    assert one == _queries(outcomes.outcomes_summary) == 4


def test_the_chart_overview_is_a_fixed_number_of_queries(patient, running_session, django_assert_num_queries) -> None:
    with django_assert_num_queries(9):
        overview = outcomes.patient_overview(patient)
    assert overview.course is not None and [s.pk for s in overview.sessions.values()] == [running_session.pk]
