"""A whole clinic day in chromium, by staff who start the day with new accounts: the front
desk registers a new patient, the RN records the intake, the prescriber decides, plans the
course and writes the order, the CRNA verifies and runs the IV infusion, the RN gives the
standing antiemetic (PRN) and discharges; in the afternoon a second patient has an
esketamine nasal session (REMS set up with tests/support/rems.py); the day ends on the
outcomes page.

The clock is moved with time_machine (it moves the live server's clock too)."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import pytest
import time_machine
from django.utils import timezone

from ketamine_clinic.services import clinic, courses, intake, measures, schedule
from ketamine_clinic.services.accounts import do_create_user
from ketamine_clinic.services.patients import do_create_patient
from ketamine_clinic.storage.models import Course, InfusionSession, Patient, PrnDose, User
from tests.conftest import VITALS
from tests.support.rems import rems_on_site, rems_ready
from tests.web.browser.conftest import open_as, screenshot
from tests.web.browser.test_journey_browser import _path, _vitals

pytestmark = pytest.mark.browser

PASSWORD = "full-day-password-1"
MORNING = datetime(2027, 3, 1, 7, 0, tzinfo=UTC)  # a Monday


def _staff() -> dict[str, User]:
    people = {
        username: do_create_user(
            username, role, PASSWORD, first_name=username.title(), last_name="Day", acting_user=None
        )
        for username, role in (("desk", "front_desk"), ("rn", "rn"), ("crna", "crna"), ("doc", "prescriber"))
    }
    for name in ("Chair 1", "Chair 2"):
        schedule.do_create_chair(name, acting_user=None)
    clinic.do_update_clinic_settings(clinic_name="Full Day Clinic", idle_timeout_minutes=240, acting_user=None)
    return people


def _as(page, username: str, path: str) -> None:  # type: ignore[no-untyped-def]
    open_as(page, username, PASSWORD, path)


def _checklist(page, *, iv: bool) -> None:  # type: ignore[no-untyped-def]
    for box in page.locator("fieldset.checks input[type=checkbox]").all():
        box.check()
    assert (page.get_by_label("IV access in place and patent").count() == 1) is iv
    for label, value in (("Systolic (mmHg)", "122"), ("Diastolic (mmHg)", "78")):
        page.get_by_label(label).fill(value)
    page.get_by_label("Heart rate (/min)").fill("70")
    page.get_by_label("SpO₂ (%)").fill("98")
    page.get_by_role("button", name="Complete checklist").click()


def _discharge(page) -> None:  # type: ignore[no-untyped-def]
    discharge = page.locator("form.discharge")
    for code in ("aldrete", "padss"):
        for index in range(5):
            discharge.locator(f"input[name={code}_{index}][value='2']").check()
    discharge.get_by_label("Dissociation resolved").check()
    discharge.get_by_label("Escort present to take the patient home").check()
    discharge.locator("input[name=aftercare_given]").check()
    discharge.get_by_role("button", name="Check and discharge").click()
    text = page.locator("main").inner_text()
    assert "Discharged at" in text, text


def _morning_iv(page, clock, people: dict[str, User]) -> None:  # type: ignore[no-untyped-def]
    _as(page, "desk", "/desk/patients/new/")
    page.get_by_label("Given name").fill("Morgan")
    page.get_by_label("Family name").fill("Dayfirst")
    page.get_by_label("Birth date").fill("1982-06-15")
    page.get_by_label("Sex").select_option("male")
    page.get_by_role("button", name="Register").click()
    page.wait_for_url("**/desk/")
    patient = Patient.objects.get(family_name="Dayfirst")
    chart = f"/clinic/patients/{patient.pk}/"

    clock.move_to(MORNING + timedelta(minutes=15))
    _as(page, "rn", chart)
    page.get_by_role("link", name="Start intake").click()
    page.get_by_label("Treatment-resistant depression").check()
    for index, (drug, weeks) in enumerate((("sertraline", "8"), ("venlafaxine", "10"))):
        page.locator(f"input[name=trial_{index}_drug]").fill(drug)
        page.locator(f"input[name=trial_{index}_weeks]").fill(weeks)
        page.locator(f"input[name=trial_{index}_adequate]").check()
    page.locator("input[name=weight]").fill("80")
    page.locator("select[name=weight_unit]").select_option("kg")
    page.locator("input[name=height_cm]").fill("178")
    for label, value in (("Systolic (mmHg)", "118"), ("Diastolic (mmHg)", "76"), ("Heart rate (/min)", "72"),
                         ("SpO₂ (%)", "98")):  # fmt: skip
        page.get_by_label(label).fill(value)
    page.get_by_label("Informed consent signed").check()
    page.get_by_role("button", name="Record intake and screen").click()
    assert page.locator(".screen").inner_text().strip().lower() == "eligible"
    intake_url = _path(page.url)
    # the day's PHQ-9, taken with the RN (the checklist's questionnaire item needs it)
    measures.do_record_assessment(patient, "phq9", [2, 2, 2, 2, 2, 1, 1, 1, 0], at=timezone.now(),
                                  acting_user=people["rn"])  # fmt: skip

    clock.move_to(MORNING + timedelta(minutes=40))
    _as(page, "doc", intake_url)
    page.get_by_label("Eligible", exact=True).check()
    page.get_by_role("button", name="Record decision").click()
    page.wait_for_url("**" + chart)
    page.get_by_role("link", name="Plan course").click()
    page.get_by_label("Protocol").select_option("iv_racemic_depression")
    page.get_by_label("Start date").fill(MORNING.date().isoformat())
    page.get_by_label("Start time").fill("10:00")
    page.get_by_role("button", name="Plan and book the series").click()
    page.wait_for_url("**" + chart)
    visit = Course.objects.get(patient=patient).visits.order_by("starts_at").first()
    assert visit.starts_at == datetime.combine(MORNING.date(), time(10, 0), tzinfo=UTC)
    page.get_by_role("link", name="Write order").click()
    page.get_by_role("button", name="Sign order").click()
    page.wait_for_url("**" + chart)

    clock.move_to(visit.starts_at - timedelta(minutes=20))
    _as(page, "crna", chart)
    page.get_by_role("link", name="Verify").click()
    page.get_by_role("button", name="I have checked it: verify").click()
    page.get_by_role("button", name="Open session").click()
    page.wait_for_url("**/clinic/sessions/*/")
    url = _path(page.url)
    _as(page, "rn", url)
    _checklist(page, iv=True)
    page.wait_for_selector("text=Ready to start")

    clock.move_to(visit.starts_at + timedelta(minutes=2))
    _as(page, "crna", url)
    page.get_by_role("button", name="Start infusion").click()
    page.wait_for_selector("text=Infusing")
    clock.move_to(visit.starts_at + timedelta(minutes=15))
    _as(page, "rn", url)
    _vitals(page, "132", "82")
    page.locator("#sec-prn > summary").click()
    page.get_by_label("Medicine").select_option("ondansetron_iv")
    page.get_by_label("Dose given (mg)").fill("4")
    page.get_by_label("Why").fill("Nausea at 15 min")
    page.get_by_role("button", name="Record dose given").click()
    page.wait_for_selector("text=recorded on the MAR")
    assert "Nausea at 15 min" in page.locator("table.mar").inner_text()
    assert PrnDose.objects.filter(session__visit=visit).count() == 1
    screenshot(page, "full-day-iv-prn")

    clock.move_to(visit.starts_at + timedelta(minutes=42))
    _as(page, "crna", url)
    page.get_by_role("button", name="Stop").click()
    page.wait_for_selector("text=Administered")
    clock.move_to(visit.starts_at + timedelta(minutes=110))
    _as(page, "rn", url)
    _vitals(page, "124", "79")
    _discharge(page)
    assert InfusionSession.objects.get(visit=visit).status == "discharged"


def _nasal_patient(people: dict[str, User]) -> Patient:
    """A second patient, registered and screened last week, with the REMS set up."""
    week_ago = MORNING - timedelta(days=7)
    patient = do_create_patient(
        mrn="", given_name="Noor", family_name="Nasal", birth_date=date(1979, 9, 30), sex="female",
        at=week_ago, acting_user=people["desk"],
    )  # fmt: skip
    row = intake.do_record_intake(
        patient, diagnoses=["trd"], failed_trials=[{"adequate": True}, {"adequate": True}], contraindications={},
        weight_kg="64", height_cm="165", vitals=VITALS, pregnant=False, consent_given=True, at=week_ago,
        acting_user=people["rn"],
    )  # fmt: skip
    intake.do_decide_eligibility(row, decision="eligible", note="", at=week_ago, acting_user=people["doc"])
    measures.do_record_assessment(patient, "phq9", [2] * 8 + [0], at=week_ago, acting_user=people["rn"])
    rems_ready(patient, people["doc"], week_ago)
    courses.do_plan_course(
        patient, protocol="esketamine_trd", start_date=MORNING.date(), start_time=time(13, 0), baseline_score=16,
        at=week_ago, acting_user=people["doc"],
    )  # fmt: skip
    return patient


def _afternoon_nasal(page, clock, people: dict[str, User], patient: Patient) -> None:  # type: ignore[no-untyped-def]
    chart = f"/clinic/patients/{patient.pk}/"
    visit = Course.objects.get(patient=patient).visits.order_by("starts_at").first()
    clock.move_to(visit.starts_at - timedelta(minutes=40))
    measures.do_record_assessment(patient, "phq9", [1] * 8 + [0], at=timezone.now(), acting_user=people["rn"])
    _as(page, "doc", chart)
    page.get_by_role("link", name="Write order").click()
    page.get_by_role("button", name="Sign order").click()
    page.wait_for_url("**" + chart)
    _as(page, "rn", chart)
    page.get_by_role("link", name="Verify").click()
    page.get_by_role("button", name="I have checked it: verify").click()
    page.get_by_role("button", name="Open session").click()
    page.wait_for_url("**/clinic/sessions/*/")
    url = _path(page.url)
    _checklist(page, iv=False)
    page.wait_for_selector("text=Ready for the first device")
    session = InfusionSession.objects.get(visit=visit)
    clock.move_to(visit.starts_at + timedelta(minutes=1))
    rems_on_site(session, people["doc"], timezone.now())
    _as(page, "crna", url)
    page.get_by_role("button", name="Record device 1 taken").click()
    page.wait_for_selector("text=Devices given: 1 of 2")
    clock.move_to(visit.starts_at + timedelta(minutes=7))
    page.goto(url)
    page.get_by_role("button", name="Record device 2 taken").click()
    page.wait_for_selector("text=Devices given: 2 of 2")
    screenshot(page, "full-day-nasal-devices")
    clock.move_to(visit.starts_at + timedelta(minutes=40))
    _as(page, "rn", url)
    _vitals(page, "128", "80")
    clock.move_to(visit.starts_at + timedelta(minutes=130))
    page.goto(url)
    _vitals(page, "122", "78")
    _discharge(page)
    assert InfusionSession.objects.get(visit=visit).status == "discharged"


def test_a_full_clinic_day(page) -> None:  # type: ignore[no-untyped-def]
    with time_machine.travel(MORNING, tick=True) as clock:
        people = _staff()
        nasal = _nasal_patient(people)
        _morning_iv(page, clock, people)
        _afternoon_nasal(page, clock, people, nasal)
        clock.move_to(MORNING + timedelta(hours=10))
        _as(page, "doc", "/clinic/reports/")
        assert "Monthly outcomes" in page.locator("h1").inner_text()
        cells = page.locator("tr.total td").all_inner_texts()
        started, infusions = cells[0], cells[6]
        assert (started, infusions) == ("2", "2"), cells  # both courses began today, one infusion each
        screenshot(page, "full-day-outcomes")
        assert InfusionSession.objects.filter(status="discharged").count() == 2
