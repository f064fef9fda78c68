"""One patient's whole journey in chromium, each step by the role that does it:
registration -> intake -> eligibility -> course -> order -> verification -> session with
vitals, an alert and a side effect -> discharge -> six infusions -> the induction decision.

The clock is moved with time_machine (it moves the live server's clock too), so the
observation time before discharge and the days between infusions pass for real.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.utils import timezone

from ketamine_clinic.services import clinic, measures, schedule
from ketamine_clinic.services.accounts import do_create_user
from ketamine_clinic.storage.models import Course, Patient, User, Visit
from tests.web.browser.conftest import open_as, screenshot

pytestmark = pytest.mark.browser

PASSWORD = "journey-password-1"
START = datetime(2027, 3, 1, 7, 30, tzinfo=UTC)  # a Monday


def _staff() -> None:
    for username, role in (
        ("desk", "front_desk"),
        ("rn", "rn"),
        ("crna", "crna"),
        ("doc", "prescriber"),
        ("pat", "patient"),
    ):
        do_create_user(username, role, PASSWORD, first_name=username.title(), last_name="Tester", acting_user=None)
    for name in ("Chair 1", "Chair 2"):
        schedule.do_create_chair(name, acting_user=None)
    clinic.do_update_clinic_settings(clinic_name="Journey Clinic", idle_timeout_minutes=240, acting_user=None)


def _as(page, username: str, path: str) -> None:  # type: ignore[no-untyped-def]
    open_as(page, username, PASSWORD, path)


def _phq9(page, answers: list[int]) -> None:  # type: ignore[no-untyped-def]
    _as(page, "pat", "/me/questionnaires/phq9/")
    for item, value in enumerate(answers, start=1):
        page.locator(f"input[name=item_{item}][value='{value}']").check()
    page.get_by_role("button", name="Send my answers").click()
    page.wait_for_url("**/me/")


def _infusion(page, clock, patient: Patient, visit: Visit, number: int) -> None:  # type: ignore[no-untyped-def]
    chart = f"/clinic/patients/{patient.pk}/"
    clock.move_to(visit.starts_at - timedelta(minutes=45))
    # the PHQ-9 of the day, taken with the RN: the checklist's questionnaire item needs it
    answers = [2, 2, 2, 2, 2, 1, 1, 1, 0] if number < 4 else [1, 2, 1, 1, 1, 1, 1, 0, 0]
    measures.do_record_assessment(
        patient, "phq9", answers, at=timezone.now(), acting_user=User.objects.get(username="rn")
    )
    _as(page, "doc", chart)
    page.get_by_role("link", name="Write order").click()
    page.get_by_role("button", name="Sign order").click()
    page.wait_for_url("**" + chart)
    _as(page, "rn", chart)
    page.get_by_role("link", name="Verify").click()
    page.get_by_role("button", name="I have checked it: verify").click()
    page.get_by_role("button", name="Open session").click()
    page.wait_for_url("**/clinic/sessions/*/")
    session_url = page.url
    for label in (
        "Identity and allergies checked",
        "Fasting as instructed",
        "Escort present to take the patient home",
        "Consent on file",
        "Today's PHQ-9 and suicide screen reviewed",
        "IV access in place",
    ):
        page.get_by_label(label).check()
    for label, value in (
        ("Systolic (mmHg)", "122"),
        ("Diastolic (mmHg)", "78"),
        ("Heart rate (/min)", "70"),
        ("SpO₂ (%)", "98"),
    ):
        page.get_by_label(label).fill(value)
    page.get_by_role("button", name="Complete checklist").click()
    clock.move_to(visit.starts_at + timedelta(minutes=5))
    _as(page, "crna", _path(session_url))
    page.get_by_role("button", name="Start infusion").click()
    page.wait_for_selector("text=Predicted plasma concentration")
    high = number == 1
    clock.move_to(visit.starts_at + timedelta(minutes=20))
    _as(page, "rn", _path(session_url))
    _vitals(page, "186" if high else "131", "96" if high else "82")
    if high:
        assert "Systolic 186 mmHg (pause at 180)" in page.locator(".alert-error").inner_text()
        page.get_by_label("Side effect").select_option(label="Drowsiness or dream-like state")
        page.get_by_label("Severity").select_option(label="Mild")
        page.get_by_role("button", name="Record side effect").click()
        screenshot(page, "journey-session-alert")
        _as(page, "crna", _path(session_url))
        while page.locator("#alerts-h").count():  # the pause alert and the rise-from-baseline notice
            page.locator("section[aria-labelledby=alerts-h]").get_by_role("link", name="Open").first.click()
            page.get_by_label("What was done").fill("Paused 5 min, rechecked 150/88, resumed at the same rate.")
            page.get_by_role("button", name="Acknowledge").click()
            page.wait_for_url("**" + _path(session_url))
    clock.move_to(visit.starts_at + timedelta(minutes=45))
    _as(page, "crna", _path(session_url))
    page.get_by_role("button", name="Stop").click()
    page.wait_for_selector("text=Administered")
    clock.move_to(visit.starts_at + timedelta(minutes=110))
    _as(page, "rn", _path(session_url))
    _vitals(page, "124", "79")
    discharge = page.locator("form.discharge")
    if number == 1:  # an unscored item is named, and the answers given are kept
        discharge.locator("input[name=aldrete_0][value='2']").check()
        discharge.get_by_role("button", name="Check and discharge").click()
        assert "Aldrete item 2" in page.locator("main").inner_text()
        assert page.locator("form.discharge input[name=aldrete_0][value='2']").is_checked()
        discharge = page.locator("form.discharge")
    for code in ("aldrete", "padss"):
        for index in range(5):
            discharge.locator(f"input[name={code}_{index}][value='2']").check()
    discharge.get_by_label("Dissociation resolved").check()
    discharge.get_by_label("Escort present to take the patient home").check()
    discharge.locator("input[name=aftercare_given]").check()
    discharge.get_by_role("button", name="Check and discharge").click()
    assert "Discharged at" in page.locator("main").inner_text(), page.locator(".messages").inner_text()
    if number == 1:
        screenshot(page, "journey-session-discharged")


def _path(url: str) -> str:
    return "/" + url.split("/", 3)[3]


def _vitals(page, systolic: str, diastolic: str) -> None:  # type: ignore[no-untyped-def]
    form = page.locator("form[action$='/vitals/']")
    form.get_by_label("Systolic (mmHg)").fill(systolic)
    form.get_by_label("Diastolic (mmHg)").fill(diastolic)
    form.get_by_label("Heart rate (/min)").fill("74")
    form.get_by_label("SpO₂ (%)").fill("97")
    form.get_by_label("Resp. rate (/min)").fill("14")
    form.get_by_role("button", name="Record vitals").click()
    page.wait_for_selector(f"text={systolic}/{diastolic}")


def test_one_patient_from_registration_to_the_induction_decision(page) -> None:  # type: ignore[no-untyped-def]
    with time_machine.travel(START, tick=True) as clock:
        _staff()
        # front desk registers the patient
        _as(page, "desk", "/desk/patients/new/")
        page.get_by_label("Given name").fill("Robin")
        page.get_by_label("Family name").fill("Journey")
        page.get_by_label("Birth date").fill("1985-04-12")
        page.get_by_label("Sex").select_option("female")
        page.get_by_role("button", name="Register").click()
        page.wait_for_url("**/desk/")
        patient = Patient.objects.get(family_name="Journey")
        # linking a patient's login to their record is an admin task with no page yet
        Patient.objects.filter(pk=patient.pk).update(user=User.objects.get(username="pat"))
        _phq9(page, [2, 3, 2, 2, 2, 2, 2, 2, 0])
        # the RN records the intake; the screen says eligible
        chart = f"/clinic/patients/{patient.pk}/"
        _as(page, "rn", chart)
        page.get_by_role("link", name="Start intake").click()
        page.get_by_label("Treatment-resistant depression").check()
        page.locator("input[name=trial_0_drug]").fill("sertraline")
        page.locator("input[name=trial_0_weeks]").fill("8")
        page.locator("input[name=trial_0_adequate]").check()
        page.locator("input[name=trial_1_drug]").fill("venlafaxine")
        page.locator("input[name=trial_1_weeks]").fill("10")
        page.locator("input[name=trial_1_adequate]").check()
        page.locator("input[name=weight]").fill("68.5")
        page.locator("select[name=weight_unit]").select_option("kg")
        page.locator("input[name=height_cm]").fill("170")
        for label, value in (
            ("Systolic (mmHg)", "118"),
            ("Diastolic (mmHg)", "76"),
            ("Heart rate (/min)", "72"),
            ("SpO₂ (%)", "98"),
        ):
            page.get_by_label(label).fill(value)
        page.get_by_label("Informed consent signed").check()
        screenshot(page, "journey-intake")
        page.get_by_role("button", name="Record intake and screen").click()
        assert page.locator(".screen").inner_text().strip().lower() == "eligible"
        intake_url = _path(page.url)
        # the prescriber decides eligibility and plans the course
        _as(page, "doc", intake_url)
        page.get_by_label("Eligible", exact=True).check()
        page.get_by_role("button", name="Record decision").click()
        page.wait_for_url("**" + chart)
        page.get_by_role("link", name="Plan course").click()
        page.get_by_label("Protocol").select_option("iv_racemic_depression")
        page.get_by_label("Start date").fill((START.date() + timedelta(days=1)).isoformat())
        page.get_by_role("button", name="Plan and book the series").click()
        page.wait_for_url("**" + chart)
        course = Course.objects.get(patient=patient)
        visits = list(course.visits.order_by("starts_at"))
        assert len(visits) == 6
        for number, visit in enumerate(visits, start=1):
            _infusion(page, clock, patient, visit, number)
        # responding: the patient's PHQ-9 after the series
        clock.move_to(visits[-1].starts_at + timedelta(hours=3))
        _phq9(page, [1, 1, 1, 0, 1, 1, 0, 0, 0])
        _as(page, "doc", f"/clinic/courses/{course.pk}/decision/")
        assert "Suggested: Move to maintenance" in page.locator("main").inner_text()
        screenshot(page, "journey-decision")
        page.get_by_role("button", name="Record the decision").click()
        page.wait_for_url("**" + chart)
        course.refresh_from_db()
        assert course.status == "maintenance"
        assert course.visits.filter(phase="maintenance", status="scheduled").count() == 1
        screenshot(page, "journey-chart")
