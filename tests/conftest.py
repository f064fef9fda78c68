"""Shared personas. Set-up goes through services, as the clinic's own code does."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import pytest

from ketamine_clinic.domain import chairside
from ketamine_clinic.services import courses, intake, measures, orders, schedule, sessions
from ketamine_clinic.services.accounts import do_create_user
from ketamine_clinic.services.patients import do_create_patient

PASSWORD = "persona-password-42"
AT = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)


def _user(username: str, role: str, **kw: str):  # type: ignore[no-untyped-def]
    return do_create_user(username, role, PASSWORD, acting_user=None, **kw)


@pytest.fixture
def admin(db):  # type: ignore[no-untyped-def]
    return _user("admin1", "admin")


@pytest.fixture
def prescriber(db):  # type: ignore[no-untyped-def]
    return _user("prescriber1", "prescriber", credentials="MD")


@pytest.fixture
def crna(db):  # type: ignore[no-untyped-def]
    return _user("crna1", "crna", credentials="CRNA")


@pytest.fixture
def nurse(db):  # type: ignore[no-untyped-def]
    return _user("nurse1", "rn", credentials="RN")


@pytest.fixture
def front_desk(db):  # type: ignore[no-untyped-def]
    return _user("desk1", "front_desk")


@pytest.fixture
def patient_user(db):  # type: ignore[no-untyped-def]
    return _user("patient1", "patient")


@pytest.fixture
def stranger_user(db):  # type: ignore[no-untyped-def]
    """A patient of the clinic who must never see another patient's record."""
    return _user("stranger1", "patient")


@pytest.fixture
def patient(patient_user):  # type: ignore[no-untyped-def]
    return do_create_patient(
        mrn="T-0001",
        given_name="Pat",
        family_name="Example",
        birth_date=date(1980, 1, 2),
        sex="female",
        at=AT,
        user=patient_user,
        acting_user=None,
    )


@pytest.fixture
def stranger(stranger_user):  # type: ignore[no-untyped-def]
    return do_create_patient(
        mrn="T-0002",
        given_name="Sam",
        family_name="Stranger",
        birth_date=date(1975, 5, 6),
        sex="male",
        at=AT,
        user=stranger_user,
        acting_user=None,
    )


@pytest.fixture
def auditor(db):  # type: ignore[no-untyped-def]
    return _user("auditor1", "auditor")


@pytest.fixture
def personas(admin, prescriber, crna, nurse, front_desk, patient_user, auditor):  # type: ignore[no-untyped-def]
    return {
        "auditor": auditor,
        "admin": admin,
        "prescriber": prescriber,
        "crna": crna,
        "rn": nurse,
        "front_desk": front_desk,
        "patient": patient_user,
    }


def pytest_sessionfinish(session, exitstatus):  # type: ignore[no-untyped-def]
    """Under KC_FAIL_ON_SKIP=1 (CI), a skipped test fails the run: nothing may hide."""
    import os

    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    skipped = len(reporter.stats.get("skipped", [])) if reporter else 0
    if os.environ.get("KC_FAIL_ON_SKIP") == "1" and skipped and exitstatus == 0:
        reporter.write_line(f"KC_FAIL_ON_SKIP: {skipped} test(s) skipped; failing the run.")
        session.exitstatus = 1


# ---- the journey: chairs, intake, eligibility, course, order, session ----


MONDAY = datetime(2026, 11, 2, 8, 0, tzinfo=UTC)
VITALS = {"systolic_mmhg": 120, "diastolic_mmhg": 78, "heart_rate_bpm": 72, "spo2_percent": 98, "respiratory_rate": 14}


@pytest.fixture
def chairs(db):  # type: ignore[no-untyped-def]
    return [schedule.do_create_chair(n, acting_user=None) for n in ("Chair A", "Chair B")]


@pytest.fixture
def recorded_intake(patient, nurse):  # type: ignore[no-untyped-def]
    return intake.do_record_intake(
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


@pytest.fixture
def course(recorded_intake, prescriber, nurse, patient, chairs):  # type: ignore[no-untyped-def]
    intake.do_decide_eligibility(
        recorded_intake, decision="eligible", note="", at=MONDAY - timedelta(days=6), acting_user=prescriber
    )
    measures.do_record_assessment(
        patient, "phq9", [2, 2, 2, 2, 2, 2, 2, 2, 0], at=MONDAY - timedelta(days=6), acting_user=nurse
    )
    return courses.do_plan_course(
        patient,
        protocol="iv_racemic_depression",
        start_date=MONDAY.date(),
        start_time=time(9, 0),
        baseline_score=16,
        at=MONDAY - timedelta(days=5),
        acting_user=prescriber,
    )


@pytest.fixture
def verified_order(course, prescriber, crna):  # type: ignore[no-untyped-def]
    visit = course.visits.order_by("starts_at").first()
    order = orders.do_sign_order(
        visit,
        dose_mg_per_kg=0.5,
        duration_min=40,
        concentration_mg_per_ml=1,
        at=MONDAY - timedelta(days=1),
        acting_user=prescriber,
    )
    return orders.do_verify_order(order, at=MONDAY - timedelta(hours=20), acting_user=crna)


def screen_today(patient, at, by, answers=(1, 1, 1, 1, 1, 1, 1, 1, 0)):  # type: ignore[no-untyped-def]
    """Today's PHQ-9 (item 9 "not at all" unless told): the checklist's questionnaire item
    needs one recorded on the day [S70]."""
    return measures.do_record_assessment(patient, "phq9", list(answers), at=at, acting_user=by)


def complete_checklist(session, *, at, acting_user, vitals=VITALS, items=None):  # type: ignore[no-untyped-def]
    """Record a PHQ-9 at ``at`` unless one is on file for that day, then tick every item of
    the session's route and record the pre-dose vitals."""
    from django.utils import timezone

    from ketamine_clinic.services import checklist

    if checklist.todays_screen(session.patient, timezone.localdate(at))["phq9"] is None:
        screen_today(session.patient, at, acting_user)
    ticks = items if items is not None else {n: True for n, _ in chairside.CHECKLIST}
    return sessions.do_complete_checklist(session, items=ticks, vitals=vitals, at=at, acting_user=acting_user)


@pytest.fixture
def running_session(verified_order, nurse, crna):  # type: ignore[no-untyped-def]
    visit = verified_order.visit
    session = sessions.do_open_session(visit, at=visit.starts_at, acting_user=nurse)
    complete_checklist(session, vitals=VITALS, at=visit.starts_at + timedelta(minutes=2), acting_user=nurse)
    sessions.do_record_pump_event(
        session, "start", rate_ml_per_h=None, at=visit.starts_at + timedelta(minutes=5), acting_user=crna
    )
    session.refresh_from_db()
    return session


def close_with_assessment(alert, prescriber, at, *, disposition="treat_today"):  # type: ignore[no-untyped-def]
    """A prescriber records a negative C-SSRS at ``at`` and closes ``alert`` with it."""
    from ketamine_clinic.services import alerts

    cssrs = measures.do_record_assessment(
        alert.patient, "cssrs_screen", [0, 0, None, None, None, 0, None], at=at, acting_user=prescriber
    )
    return alerts.do_close_suicide_alert(
        alert,
        cssrs_assessment_id=cssrs.pk,
        risk_level="low",
        safety_plan_reviewed=True,
        disposition=disposition,
        note="Denies intent or plan; safety plan reviewed with patient and escort.",
        assessed_at=at,
        at=at,
        acting_user=prescriber,
    )


@pytest.fixture(autouse=True)
def _fresh_rule_cache():  # type: ignore[no-untyped-def]
    """Each test starts without cached clinic thresholds from an earlier test's database."""
    from ketamine_clinic.services import clinic

    clinic._CACHE.clear()
    yield
    clinic._CACHE.clear()


def pytest_collection_modifyitems(config, items):  # type: ignore[no-untyped-def]
    """Tests marked ``postgresql`` (row-lock races between connections) run only there.
    On SQLite they are deselected, not skipped, so KC_FAIL_ON_SKIP still holds."""
    from django.conf import settings

    if settings.CONFIG.database_url:
        return
    keep = [item for item in items if item.get_closest_marker("postgresql") is None]
    dropped = [item for item in items if item.get_closest_marker("postgresql") is not None]
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = keep


@pytest.fixture(autouse=True)
def _private_audit_dir(settings, tmp_path):  # type: ignore[no-untyped-def]
    """Checkpoints outside the database go to a directory of the test's own."""
    settings.KC_AUDIT_DIR = tmp_path / "audit"
    yield
