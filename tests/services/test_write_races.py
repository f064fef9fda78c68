"""Races on PostgreSQL: threads racing each clinical write end with exactly one result and
only friendly refusals (never a database error)."""

from __future__ import annotations

from datetime import date, time, timedelta

import pytest
from django.utils import timezone

from ketamine_clinic.domain import chairside
from ketamine_clinic.services import alerts, courses, measures, orders, sessions
from ketamine_clinic.services.errors import Conflict, ServiceError
from ketamine_clinic.services.patients import do_create_patient
from ketamine_clinic.storage.models import Alert, Course, Order, Patient, PumpEvent
from tests.conftest import MONDAY, VITALS, complete_checklist
from tests.services.test_alert_races import _race
from tests.support.rems import rems_on_site, rems_ready

pytestmark = [pytest.mark.postgresql, pytest.mark.django_db(transaction=True)]


def _only_friendly(errors: list[BaseException]) -> None:
    assert all(isinstance(e, ServiceError) for e in errors), errors


def test_racing_signatures_make_one_live_order(course, prescriber) -> None:
    visit = course.visits.order_by("starts_at").first()

    def sign() -> None:
        orders.do_sign_order(
            visit, dose_mg_per_kg=0.5, duration_min=40, concentration_mg_per_ml=1, at=MONDAY, acting_user=prescriber
        )

    errors = _race([sign] * 6)
    _only_friendly(errors)
    assert len(errors) == 5 and Order.objects.filter(visit=visit, cancelled_reason="").count() == 1


def test_racing_course_plans_make_one_active_course(recorded_intake, prescriber, patient, chairs) -> None:
    from ketamine_clinic.services import intake

    intake.do_decide_eligibility(recorded_intake, decision="eligible", note="", at=MONDAY, acting_user=prescriber)

    def plan() -> None:
        courses.do_plan_course(
            patient,
            protocol="iv_racemic_depression",
            start_date=MONDAY.date(),
            start_time=time(9, 0),
            baseline_score=16,
            at=MONDAY,
            acting_user=prescriber,
        )

    errors = _race([plan] * 4)
    _only_friendly(errors)
    assert Course.objects.filter(patient=patient).count() == 1


def test_racing_registrations_get_distinct_record_numbers(front_desk) -> None:
    def register(n: int):  # type: ignore[no-untyped-def]
        return lambda: do_create_patient(
            mrn="",
            given_name=f"Racer{n}",
            family_name="Desk",
            birth_date=date(1990, 1, n + 1),
            sex="male",
            at=timezone.now(),
            acting_user=front_desk,
        )

    errors = _race([register(n) for n in range(6)])
    assert errors == []
    mrns = list(Patient.objects.values_list("mrn", flat=True))
    assert len(mrns) == 6 and len(set(mrns)) == 6


def test_racing_verifications_verify_once(course, prescriber, crna, nurse) -> None:
    visit = course.visits.order_by("starts_at").first()
    order = orders.do_sign_order(
        visit, dose_mg_per_kg=0.5, duration_min=40, concentration_mg_per_ml=1, at=MONDAY, acting_user=prescriber
    )
    errors = _race(
        [
            lambda: orders.do_verify_order(order, at=MONDAY, acting_user=crna),
            lambda: orders.do_verify_order(order, at=MONDAY, acting_user=nurse),
        ]
    )
    _only_friendly(errors)
    assert len(errors) == 1 and Order.objects.get(pk=order.pk).verified_at is not None


def test_racing_acknowledgements_acknowledge_once(patient, nurse, crna) -> None:
    measures.do_record_assessment(
        patient, "cssrs_screen", [1, 0, None, None, None, 0, None], at=MONDAY, acting_user=nurse
    )
    alert = Alert.objects.get(patient=patient)
    note = "Talked it through; passive wish only, no plan."
    errors = _race(
        [
            lambda: alerts.do_acknowledge_alert(alert, note=note, at=MONDAY, acting_user=nurse),
            lambda: alerts.do_acknowledge_alert(alert, note=note, at=MONDAY, acting_user=crna),
        ]
    )
    _only_friendly(errors)
    assert len(errors) == 1 and isinstance(errors[0], Conflict)


def test_racing_pump_starts_start_once(verified_order, nurse, crna) -> None:
    visit = verified_order.visit
    t = visit.starts_at
    session = sessions.do_open_session(visit, at=t, acting_user=nurse)
    complete_checklist(session, items={n: True for n, _ in chairside.CHECKLIST}, vitals=VITALS, at=t, acting_user=nurse)
    start = t + timedelta(minutes=3)
    errors = _race(
        [lambda: sessions.do_record_pump_event(session, "start", rate_ml_per_h=None, at=start, acting_user=crna)] * 4
    )
    _only_friendly(errors)
    assert PumpEvent.objects.filter(session=session, kind="start").count() == 1


def test_racing_devices_never_exceed_the_order(recorded_intake, prescriber, crna, nurse, patient, chairs) -> None:
    from ketamine_clinic.services import intake

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
    moments = [t + timedelta(minutes=1), t + timedelta(minutes=7), t + timedelta(minutes=13), t + timedelta(minutes=19)]
    errors = _race([lambda at=at: sessions.do_give_nasal_device(session, at=at, acting_user=crna) for at in moments])
    _only_friendly(errors)
    assert PumpEvent.objects.filter(session=session, kind="device").count() <= 2


def test_the_database_refuses_two_overlapping_bookings_of_one_chair(course) -> None:
    from django.db import IntegrityError, transaction

    from ketamine_clinic.storage.models import Visit

    first = course.visits.order_by("starts_at").first()
    second = course.visits.order_by("starts_at")[1]
    with pytest.raises(IntegrityError), transaction.atomic():
        Visit.objects.filter(pk=second.pk).update(
            chair=first.chair, starts_at=first.starts_at + timedelta(minutes=30), ends_at=first.ends_at
        )
    Visit.objects.filter(pk=second.pk).update(status="cancelled")
    Visit.objects.filter(pk=second.pk).update(chair=first.chair, starts_at=first.starts_at, ends_at=first.ends_at)


def test_racing_merges_in_opposite_directions_merge_once_without_deadlock(patient, front_desk) -> None:
    from ketamine_clinic.services.patients import merge_patients

    twin = do_create_patient(
        mrn="T-0009", given_name="Pat", family_name="Example", birth_date=date(1980, 1, 2), sex="female",
        at=timezone.now(), acting_user=None,
    )  # fmt: skip
    reason = "Registered twice on the same morning"

    def merge(keep: Patient, duplicate: Patient):  # type: ignore[no-untyped-def]
        return lambda: merge_patients(keep, duplicate, reason=reason, acting_user=front_desk)

    errors = _race([merge(patient, twin), merge(twin, patient), merge(patient, twin), merge(twin, patient)])
    _only_friendly(errors)
    assert len(errors) == 3 and all(isinstance(e, Conflict) and "already merged" in e.message for e in errors)
    states = sorted(Patient.objects.filter(pk__in=[patient.pk, twin.pk]).values_list("status", flat=True))
    assert states == ["active", "merged"]
