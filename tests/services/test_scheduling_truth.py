"""Scheduling tells the truth: a course is booked at the asked time or the deviations are
listed and nothing is saved; never in the past; only inside the clinic's hours, open days,
closure dates and a chair's hours (admin settings read from one place); check-in, no-show
and the waiting list."""

from __future__ import annotations

from datetime import date, time, timedelta

import pytest
from django.utils import timezone

from ketamine_clinic.services import clinic, courses, intake, schedule
from ketamine_clinic.services.errors import Conflict, InvalidInput, NotAllowed
from ketamine_clinic.storage.models import AuditEvent, Course, EventType, Visit
from tests.conftest import MONDAY, VITALS


def _eligible(patient, nurse, prescriber) -> None:  # type: ignore[no-untyped-def]
    row = intake.do_record_intake(
        patient,
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
    intake.do_decide_eligibility(
        row, decision="eligible", note="", at=MONDAY - timedelta(days=6), acting_user=prescriber
    )


def _plan(patient, prescriber, start_time, **kw):  # type: ignore[no-untyped-def]
    return courses.do_plan_course(
        patient,
        protocol="iv_racemic_depression",
        start_date=kw.pop("start_date", MONDAY.date()),
        start_time=start_time,
        at=kw.pop("at", MONDAY - timedelta(days=5)),
        acting_user=prescriber,
        **kw,
    )


def test_a_course_asked_for_15h_is_booked_at_15h_on_every_visit(patient, nurse, prescriber, chairs) -> None:
    _eligible(patient, nurse, prescriber)
    course = _plan(patient, prescriber, time(15, 0))
    starts = [timezone.localtime(v.starts_at) for v in course.visits.all()]
    assert len(starts) == 6 and {s.time() for s in starts} == {time(15, 0)}
    assert all(s.weekday() < 5 for s in starts)


def test_a_start_time_the_visit_cannot_fit_before_closing_is_refused_not_moved(
    patient, nurse, prescriber, chairs
) -> None:
    """The reported bug: 16:00 asked, 08:00 booked. A 120-minute visit must start by 15:00."""
    _eligible(patient, nurse, prescriber)
    with pytest.raises(InvalidInput, match=r"start time must be from 08:00 to 15:00") as error:
        _plan(patient, prescriber, time(16, 0))
    assert error.value.field == "start_time"
    assert not Course.objects.filter(patient=patient).exists()


def test_a_start_in_the_past_is_refused(patient, nurse, prescriber, chairs) -> None:
    _eligible(patient, nurse, prescriber)
    with pytest.raises(InvalidInput, match="in the past"):
        _plan(patient, prescriber, time(9, 0), at=MONDAY.replace(hour=10))
    assert not Visit.objects.exists()


def test_a_taken_time_lists_every_deviation_and_books_nothing_until_accepted(
    patient, stranger, nurse, prescriber, chairs
) -> None:
    _eligible(patient, nurse, prescriber)
    _eligible(stranger, nurse, prescriber)
    # both chairs are taken at 09:00 on the course's days
    _plan(patient, prescriber, time(9, 0))
    for chair in chairs[1:]:
        for v in Visit.objects.all():
            Visit.objects.create(
                course=v.course, patient=v.patient, number=99, phase="induction",
                starts_at=v.starts_at, ends_at=v.ends_at, chair=chair,
            )  # fmt: skip
    with pytest.raises(courses.BookingDeviations) as error:
        _plan(stranger, prescriber, time(9, 0))
    placements = error.value.placements
    assert len(placements) == 6 and all(p.moved for p in placements)
    assert all("instead of 09:00 (no chair is free at 09:00)" in p.deviation for p in placements)
    assert not Course.objects.filter(patient=stranger).exists()
    course = _plan(stranger, prescriber, time(9, 0), accept_other_times=True)
    booked = [timezone.localtime(v.starts_at) for v in course.visits.all()]
    assert [b.time() for b in booked] == [timezone.localtime(p.starts_at).time() for p in placements]
    assert all(b.time() != time(9, 0) for b in booked)
    event = AuditEvent.objects.filter(event_type=EventType.COURSE_PLANNED, patient=stranger).get()
    assert len(event.new_values["deviations"]) == 6


def test_closed_weekdays_and_closure_dates_are_never_booked(patient, nurse, prescriber, admin, chairs) -> None:
    closure = MONDAY.date() + timedelta(days=2)  # the Wednesday
    clinic.do_update_clinic_hours(
        opens=time(9, 0), closes=time(16, 0), days={0, 1, 2, 3}, closures={closure: "Staff training"}, acting_user=admin
    )
    _eligible(patient, nurse, prescriber)
    course = _plan(patient, prescriber, time(9, 0))
    days = [timezone.localdate(v.starts_at) for v in course.visits.all()]
    assert closure not in days and all(d.weekday() <= 3 for d in days)
    with pytest.raises(InvalidInput, match="start time must be from 09:00 to 14:00"):
        courses.plan_placements(
            "iv_racemic_depression", start_date=MONDAY.date(), start_time=time(8, 0), chair=None, at=MONDAY
        )


def test_a_first_day_on_a_closed_day_is_a_deviation_the_prescriber_sees(patient, nurse, prescriber, chairs) -> None:
    _eligible(patient, nurse, prescriber)
    saturday = MONDAY.date() - timedelta(days=2)
    with pytest.raises(courses.BookingDeviations) as error:
        _plan(patient, prescriber, time(10, 0), start_date=saturday, at=MONDAY - timedelta(days=3))
    first = error.value.placements[0]
    assert first.moved and "closed on Saturdays" in first.deviation
    assert timezone.localdate(first.starts_at) == MONDAY.date()


def test_a_chairs_own_hours_are_kept(patient, nurse, prescriber, admin, chairs) -> None:
    schedule.do_set_chair_hours(chairs[0], time(8, 0), time(12, 0), acting_user=admin)
    _eligible(patient, nurse, prescriber)
    course = _plan(patient, prescriber, time(14, 0), chair=chairs[0])
    assert {v.chair_id for v in course.visits.all()} == {chairs[1].pk}
    with pytest.raises(InvalidInput, match="inside the clinic's hours"):
        schedule.do_set_chair_hours(chairs[1], time(6, 0), time(7, 0), acting_user=admin)


def test_rescheduling_outside_hours_or_into_the_past_is_refused(course, front_desk) -> None:
    visit = course.visits.order_by("starts_at").last()
    late = visit.starts_at.replace(hour=16)
    with pytest.raises(InvalidInput, match="outside the hours"):
        schedule.do_reschedule_visit(visit, late, reason="patient asked", at=MONDAY, acting_user=front_desk)
    with pytest.raises(InvalidInput, match="in the past"):
        schedule.do_reschedule_visit(
            visit, MONDAY + timedelta(hours=2), reason="asked", at=MONDAY + timedelta(hours=3), acting_user=front_desk
        )


def test_a_booster_on_a_closed_day_is_refused_with_the_next_open_day(course, front_desk) -> None:
    course.status = "maintenance"
    course.save()
    saturday = date(2027, 1, 9)
    with pytest.raises(InvalidInput, match="next open day is Monday 11 January"):
        courses.do_book_maintenance_visit(course, day=saturday, at=MONDAY, acting_user=front_desk)


def test_hours_that_cannot_be_are_refused_and_only_an_admin_sets_them(admin, front_desk) -> None:
    with pytest.raises(InvalidInput, match="closing time") as error:
        clinic.do_update_clinic_hours(opens=time(17, 0), closes=time(8, 0), days={0}, closures={}, acting_user=admin)
    assert error.value.field == "closes"
    with pytest.raises(InvalidInput, match="at least one open weekday"):
        clinic.do_update_clinic_hours(opens=time(8, 0), closes=time(17, 0), days=set(), closures={}, acting_user=admin)
    with pytest.raises(NotAllowed):
        clinic.do_update_clinic_hours(
            opens=time(8, 0), closes=time(17, 0), days={0}, closures={}, acting_user=front_desk
        )
    assert clinic.clinic_hours().days == frozenset({0, 1, 2, 3, 4})


def test_check_in_and_no_show(course, front_desk) -> None:
    first, second = list(course.visits.order_by("starts_at"))[:2]
    with pytest.raises(Conflict, match="checked in on the day"):
        schedule.do_check_in_visit(first, at=first.starts_at - timedelta(days=1), acting_user=front_desk)
    schedule.do_check_in_visit(first, at=first.starts_at - timedelta(minutes=10), acting_user=front_desk)
    first.refresh_from_db()
    assert first.arrived_at is not None
    with pytest.raises(Conflict, match="Already checked in"):
        schedule.do_check_in_visit(first, at=first.starts_at, acting_user=front_desk)
    with pytest.raises(Conflict, match="has checked in"):
        schedule.do_mark_no_show(first, at=first.starts_at + timedelta(minutes=30), acting_user=front_desk)
    with pytest.raises(Conflict, match="once its time has come"):
        schedule.do_mark_no_show(second, at=second.starts_at - timedelta(hours=1), acting_user=front_desk)
    schedule.do_mark_no_show(second, at=second.starts_at + timedelta(minutes=20), acting_user=front_desk)
    second.refresh_from_db()
    assert second.status == "no_show"
    assert AuditEvent.objects.filter(event_type=EventType.VISIT_NO_SHOW, subject_id=str(second.pk)).exists()


def test_the_waiting_list(patient, front_desk, nurse) -> None:
    entry = schedule.do_add_to_waitlist(
        patient, wanted="a sooner first infusion, mornings", at=MONDAY, acting_user=front_desk
    )
    with pytest.raises(Conflict, match="already on the waiting list"):
        schedule.do_add_to_waitlist(patient, wanted="mornings", at=MONDAY, acting_user=front_desk)
    with pytest.raises(NotAllowed):
        schedule.do_resolve_waitlist_entry(entry, status="booked", at=MONDAY, acting_user=nurse)
    schedule.do_resolve_waitlist_entry(entry, status="booked", at=MONDAY, acting_user=front_desk)
    entry.refresh_from_db()
    assert entry.status == "booked" and entry.resolved_at == MONDAY
