"""Issue 16 in chromium, by the roles that do it, at phone, tablet and desktop width:
scheduling that tells the truth (item 2), navigation (item 6), front desk and accounts
(item 7); every page visited is checked with axe-core (item 8).

The clock is fixed with time_machine (it moves the live server's clock too) to a Monday
morning, so "today" and "in the past" are the same for the test and the pages."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

import pytest
import time_machine

from ketamine_clinic.services import clinic, courses, intake, schedule
from ketamine_clinic.services.accounts import do_create_user
from ketamine_clinic.services.patients import do_create_patient
from ketamine_clinic.storage.models import Course, Patient, User, Visit
from tests.support.axe import assert_accessible
from tests.support.page_checks import horizontal_overflow
from tests.web.browser.conftest import open_as, screenshot

pytestmark = pytest.mark.browser

PASSWORD = "desk-browser-password-1"
MONDAY = datetime(2027, 3, 1, 7, 30, tzinfo=UTC)
VITALS = {"systolic_mmhg": 120, "diastolic_mmhg": 78, "heart_rate_bpm": 72, "spo2_percent": 98, "respiratory_rate": 14}
WIDTHS = {"phone": 390, "tablet": 820, "desktop": 1280}


def _world() -> dict[str, User]:
    people = {}
    for username, role, first, last in (
        ("desk", "front_desk", "Dana", "Desk"),
        ("rn", "rn", "Rita", "Chen"),
        ("crna", "crna", "Carl", "Ortiz"),
        ("doc", "prescriber", "Maya", "Patel"),
        ("boss", "admin", "Ada", "Admin"),
    ):
        people[username] = do_create_user(username, role, PASSWORD, first_name=first, last_name=last, acting_user=None)
    for name in ("Chair 1", "Chair 2"):
        schedule.do_create_chair(name, acting_user=None)
    clinic.do_update_clinic_settings(clinic_name="Desk Clinic", idle_timeout_minutes=240, acting_user=None)
    return people


def _eligible_patient(people: dict[str, User], family: str) -> Patient:
    patient = do_create_patient(
        mrn="", given_name="Robin", family_name=family, birth_date=datetime(1985, 4, 12).date(), sex="female",
        at=MONDAY - timedelta(days=10), acting_user=people["desk"],
    )  # fmt: skip
    row = intake.do_record_intake(
        patient, diagnoses=["trd"], failed_trials=[{"adequate": True}, {"adequate": True}], contraindications={},
        weight_kg=70, height_cm="170", vitals=VITALS, pregnant=False, consent_given=True, at=MONDAY - timedelta(days=9),
        acting_user=people["rn"],
    )  # fmt: skip
    intake.do_decide_eligibility(
        row, decision="eligible", note="", at=MONDAY - timedelta(days=8), acting_user=people["doc"]
    )
    return patient


def _look(page, name: str) -> None:  # type: ignore[no-untyped-def]
    """Screenshots at the three widths, each checked: axe clean, no sideways scroll on a phone."""
    for width_name, width in WIDTHS.items():
        page.set_viewport_size({"width": width, "height": 900})
        screenshot(page, f"desk-{name}-{width_name}")
        if width_name == "phone":
            assert horizontal_overflow(page) == 0, name
    assert_accessible(page, name)
    page.set_viewport_size({"width": 1024, "height": 768})


def test_scheduling_tells_the_truth_in_the_browser(page) -> None:  # type: ignore[no-untyped-def]
    with time_machine.travel(MONDAY, tick=True):
        people = _world()
        patient = _eligible_patient(people, "Truth")
        open_as(page, "doc", PASSWORD, f"/clinic/patients/{patient.pk}/course/")
        # the default start is never in the past: the next open day after today, at opening
        assert page.get_by_label("Start date").input_value() == "2027-03-02"
        page.get_by_label("Protocol").select_option("iv_racemic_depression")
        page.get_by_label("Start time").fill("16:00")
        page.get_by_role("button", name="Plan and book the series").click()
        assert "start time must be from 08:00 to 15:00" in page.locator("main").inner_text()
        assert not Course.objects.filter(patient=patient).exists()
        _look(page, "course-refused")
        page.get_by_label("Start time").fill("14:00")
        page.get_by_role("button", name="Plan and book the series").click()
        page.wait_for_url(f"**/clinic/patients/{patient.pk}/")
        assert "each at 14:00" in page.locator(".messages").inner_text()
        starts = {v.starts_at.astimezone(UTC).time() for v in Visit.objects.filter(patient=patient)}
        assert starts == {time(14, 0)}
        # the front desk cannot book a Saturday any more
        visit = Visit.objects.filter(patient=patient).order_by("starts_at").last()
        open_as(page, "desk", PASSWORD, f"/desk/visits/{visit.pk}/")
        saturday = visit.starts_at.date() + timedelta(days=(5 - visit.starts_at.weekday()) % 7)
        page.get_by_label("Date").fill(saturday.isoformat())
        page.get_by_label("Reason").fill("Patient asked")
        page.get_by_role("button", name="Move visit").click()
        assert "closed on Saturdays" in page.locator("main").inner_text()
        _look(page, "move-refused")


def test_the_desk_checks_in_marks_a_no_show_and_keeps_the_waiting_list(page) -> None:  # type: ignore[no-untyped-def]
    with time_machine.travel(MONDAY, tick=True) as clock:
        people = _world()
        first, second = _eligible_patient(people, "Early"), _eligible_patient(people, "Late")
        for patient, at in ((first, time(9, 0)), (second, time(11, 0))):
            courses.do_plan_course(
                patient, protocol="iv_racemic_depression", start_date=MONDAY.date(), start_time=at,
                at=MONDAY, acting_user=people["doc"],
            )  # fmt: skip
        open_as(page, "desk", PASSWORD, "/desk/")
        arrivals = page.locator("#today")
        arrivals.get_by_role("button", name="Check in").first.click()
        assert "Robin Early checked in" in page.locator(".messages").inner_text()
        clock.move_to(MONDAY.replace(hour=11, minute=40))
        open_as(page, "desk", PASSWORD, "/desk/")
        page.locator("#today").get_by_role("button", name="No-show").click()
        assert "marked no-show" in page.locator(".messages").inner_text()
        page.get_by_label("Patient MRN").fill(second.mrn)
        page.get_by_label("Waiting for").fill("a sooner slot, mornings")
        page.get_by_role("button", name="Add to the waiting list").click()
        assert "a sooner slot, mornings" in page.locator("#waitlist").inner_text()
        _look(page, "desk-home")
        # clinicians see the week too
        open_as(page, "rn", PASSWORD, "/clinic/week/")
        assert "Early, R." in page.locator("main").inner_text()
        _look(page, "clinic-week")


def test_navigation_banner_search_and_tasks(page) -> None:  # type: ignore[no-untyped-def]
    with time_machine.travel(MONDAY, tick=True):
        people = _world()
        patient = _eligible_patient(people, "Banner")
        course = courses.do_plan_course(
            patient, protocol="iv_racemic_depression", start_date=MONDAY.date(), start_time=time(10, 0),
            at=MONDAY, acting_user=people["doc"],
        )  # fmt: skip
        from ketamine_clinic.services import orders

        orders.do_sign_order(
            course.visits.first(), dose_mg_per_kg=0.5, duration_min=40, concentration_mg_per_ml=1, at=MONDAY,
            acting_user=people["doc"],
        )  # fmt: skip
        open_as(page, "crna", PASSWORD, "/clinic/")
        page.get_by_label("Find a patient").fill(patient.mrn)
        page.get_by_label("Find a patient").press("Enter")
        page.get_by_role("link", name="Robin Banner").click()
        banner = page.locator(".patient-banner").inner_text()
        assert "41 y" in banner and "70.0 kg" in banner and "IV racemic ketamine for depression" in banner
        assert "Allergies: not recorded" in banner
        _look(page, "chart-banner")
        page.get_by_role("link", name="My tasks").click()
        page.get_by_role("link", name="Verify the order for Robin Banner").click()
        page.wait_for_url("**/verify/")
        assert page.locator(".patient-banner").count() == 1
        _look(page, "tasks-verify")
        # people by full name, not user name, in the course form's select
        open_as(page, "doc", PASSWORD, f"/clinic/patients/{patient.pk}/course/")
        options = page.get_by_label("Infusion clinician").locator("option").all_inner_texts()
        assert "Carl Ortiz" in options and "crna" not in options


def test_front_desk_edits_demographics_and_admin_unlocks_and_groups_settings(page) -> None:  # type: ignore[no-untyped-def]
    with time_machine.travel(MONDAY, tick=True):
        people = _world()
        patient = _eligible_patient(people, "Edit")
        open_as(page, "desk", PASSWORD, "/desk/")
        page.get_by_label("Find a patient").fill("Edit")
        page.get_by_label("Find a patient").press("Enter")
        page.get_by_role("link", name="Robin Edit").click()
        page.get_by_label("Phone").fill("555-0142")
        page.get_by_role("button", name="Save demographics").click()
        assert "Demographics saved." in page.locator(".messages").inner_text()
        assert Patient.objects.get(pk=patient.pk).phone == "555-0142"
        _look(page, "desk-patient")
        # five wrong passwords lock the RN out; the administrator unlocks her
        page.context.clear_cookies()
        for _ in range(5):
            page.goto("/login/")
            page.get_by_label("User name").fill("rn")
            page.get_by_label("Password", exact=True).fill("wrong-password")
            page.get_by_role("button", name="Log in").click()
        open_as(page, "boss", PASSWORD, "/admin-area/users/")
        assert "locked out" in page.locator("main").inner_text()
        page.goto(f"/admin-area/users/{people['rn'].pk}/")
        page.get_by_role("button", name="Unlock the account").click()
        assert "Unlocked Rita Chen" in page.locator(".messages").inner_text()
        open_as(page, "rn", PASSWORD, "/clinic/")
        # the settings page, grouped by topic, and who verifies orders
        open_as(page, "boss", PASSWORD, "/admin-area/settings/")
        assert page.get_by_label("Systolic BP pause").count() == 1
        page.get_by_label("Prescribers (physicians, APRNs)").check()
        page.locator("#verifiers").get_by_role("button", name="Save").click()
        assert clinic.verifier_roles() == {"prescriber", "crna", "rn"}
        _look(page, "settings")
        page.goto("/admin-area/hours/")
        _look(page, "hours")
