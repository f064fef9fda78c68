"""The scheduling pages say what they book: the course form refuses 16:00 with the range,
shows every deviation before booking, defaults to a time that is not past; the admin sets
the clinic's hours; the desk checks in, marks a no-show and keeps the waiting list;
clinicians see the week."""

from __future__ import annotations

from datetime import time, timedelta

import time_machine
from django.utils import timezone

from ketamine_clinic.services import clinic, intake
from ketamine_clinic.storage.models import Course, Visit, WaitlistEntry
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


def _post_course(client, patient, **data):  # type: ignore[no-untyped-def]
    form = {"protocol": "iv_racemic_depression", "start_date": "2026-11-02", "start_time": "16:00", **data}
    return client.post(f"/clinic/patients/{patient.pk}/course/", form)


@time_machine.travel(MONDAY - timedelta(days=3), tick=False)
def test_the_course_form_refuses_16h_and_defaults_to_a_future_open_day(
    client, patient, nurse, prescriber, chairs
) -> None:
    _eligible(patient, nurse, prescriber)
    client.force_login(prescriber)
    page = client.get(f"/clinic/patients/{patient.pk}/course/").content.decode()
    assert 'value="2026-11-02"' in page  # Friday 30 Oct: the default is the next open day, Monday
    assert 'value="08:00' in page and "Clinic hours: 08:00–17:00, Monday, Tuesday" in page
    response = _post_course(client, patient)
    assert response.status_code == 200
    assert "start time must be from 08:00 to 15:00" in response.content.decode()
    assert not Course.objects.exists()


@time_machine.travel(MONDAY - timedelta(days=3), tick=False)
def test_the_course_form_lists_deviations_then_books_them_when_accepted(
    client, patient, stranger, nurse, prescriber, chairs
) -> None:
    _eligible(patient, nurse, prescriber)
    _eligible(stranger, nurse, prescriber)
    client.force_login(prescriber)
    for chair in chairs:  # both chairs taken at 10:00 on the first Monday by another patient
        _post_course(client, patient, start_time="10:00", chair=chair.pk)
        Course.objects.filter(patient=patient).update(status="completed")
    response = _post_course(client, stranger, start_time="10:00")
    page = response.content.decode()
    assert "Nothing booked" in page and "instead of 10:00 (no chair is free at 10:00)" in page
    assert not Course.objects.filter(patient=stranger).exists()
    response = _post_course(client, stranger, start_time="10:00", accept_other_times="on")
    assert response.status_code == 302
    course = Course.objects.get(patient=stranger)
    first = timezone.localtime(course.visits.first().starts_at)
    assert first.time() != time(10, 0)
    messages = client.get(response["Location"]).content.decode()
    assert "not at 10:00" in messages


def test_the_admin_sets_hours_and_the_desk_week_shows_open_days_only(client, admin, front_desk, chairs) -> None:
    client.force_login(admin)
    response = client.post(
        "/admin-area/hours/",
        {
            "op": "hours",
            "opens": "09:00",
            "closes": "15:30",
            "days": ["0", "1", "2", "3"],
            "closures": "2026-12-24 Eve",
        },
    )
    assert response.status_code == 302
    hours = clinic.clinic_hours()
    assert hours.opens == time(9, 0) and hours.days == frozenset({0, 1, 2, 3})
    bad = client.post(
        "/admin-area/hours/", {"op": "hours", "opens": "09:00", "closes": "15:30", "days": ["0"], "closures": "24/12"}
    )
    assert "“24/12” is not a date written YYYY-MM-DD" in bad.content.decode()
    client.force_login(front_desk)
    page = client.get("/desk/?week=2026-12-21").content.decode()
    assert "Thu 24 Dec" in page and "closed: Eve" in page and "Fri 25 Dec" not in page


def test_the_desk_checks_in_and_marks_a_no_show(client, course, front_desk) -> None:
    first, second = list(course.visits.order_by("starts_at"))[:2]
    client.force_login(front_desk)
    with time_machine.travel(first.starts_at - timedelta(minutes=15), tick=False):
        assert "Check in" in client.get("/desk/").content.decode()
        client.post(f"/desk/visits/{first.pk}/arrival/", {"op": "arrive"})
    first.refresh_from_db()
    assert first.arrived_at is not None
    with time_machine.travel(second.starts_at + timedelta(minutes=30), tick=False):
        client.force_login(front_desk)  # days later: the idle timeout logged the desk out
        response = client.post(f"/desk/visits/{second.pk}/arrival/", {"op": "no_show"}, follow=True)
    assert "marked no-show" in response.content.decode()
    assert Visit.objects.get(pk=second.pk).status == "no_show"


def test_the_waiting_list_page(client, patient, front_desk) -> None:
    client.force_login(front_desk)
    response = client.post("/desk/waitlist/", {"mrn": patient.mrn, "wanted": "mornings, sooner"}, follow=True)
    assert "is on the waiting list" in response.content.decode()
    entry = WaitlistEntry.objects.get()
    page = client.get("/desk/").content.decode()
    assert "mornings, sooner" in page
    client.post("/desk/waitlist/", {"op": "resolve", "entry": entry.pk, "status": "removed"})
    assert WaitlistEntry.objects.get().status == "removed"
    unknown = client.post("/desk/waitlist/", {"mrn": "NOPE", "wanted": "mornings"}, follow=True)
    assert "no patient has this MRN" in unknown.content.decode()


def test_clinicians_see_the_week_read_only(client, course, nurse) -> None:
    client.force_login(nurse)
    page = client.get(f"/clinic/week/?week={MONDAY.date().isoformat()}").content.decode()
    assert f"/clinic/patients/{course.patient_id}/" in page and "/desk/visits/" not in page
