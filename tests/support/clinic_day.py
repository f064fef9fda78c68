"""Build patients at every step of a clinic day, for tests that compare query counts at two sizes."""

from __future__ import annotations

from datetime import date, time, timedelta
from typing import Any

from ketamine_clinic.domain import chairside
from ketamine_clinic.services import courses, intake, measures, orders, sessions
from ketamine_clinic.services.patients import do_create_patient
from tests.conftest import MONDAY, VITALS, complete_checklist


def patient_in_the_chair(n: int, *, prescriber: Any, nurse: Any, crna: Any, start: time) -> Any:
    """Patient ``n``: eligible, a course planned from MONDAY at ``start``, the first order
    verified and its session open with the checklist done. Returns the session."""
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
    complete_checklist(
        session, items={k: True for k, _ in chairside.CHECKLIST}, vitals=VITALS, at=visit.starts_at, acting_user=nurse
    )
    return session


def count_queries(fn: Any) -> int:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as ctx:
        fn()
    return len(ctx.captured_queries)
