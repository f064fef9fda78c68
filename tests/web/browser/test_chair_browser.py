"""The chair-side page in chromium: a refused checklist keeps its ticks, the compact view
keeps the timer, the pump, the alerts and vitals entry above the fold on a tablet held
either way, an early stop asks why, and a nasal session never shows an IV line."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import pytest
import time_machine

from ketamine_clinic.services import clinic, courses, intake, measures, orders, schedule, sessions
from ketamine_clinic.services.accounts import do_create_user
from ketamine_clinic.services.patients import do_create_patient
from ketamine_clinic.storage.models import PumpEvent
from tests.conftest import VITALS
from tests.support.rems import rems_on_site, rems_ready
from tests.web.browser.conftest import open_as, screenshot

pytestmark = pytest.mark.browser

PASSWORD = "chair-password-1"
DAY = datetime(2027, 3, 2, 8, 0, tzinfo=UTC)  # a Tuesday


def _clinic(protocol: str):  # type: ignore[no-untyped-def]
    staff = {
        n: do_create_user(n, r, PASSWORD, first_name=n.title(), last_name="Tester", acting_user=None)
        for n, r in (("doc", "prescriber"), ("rn", "rn"), ("crna", "crna"))
    }
    clinic.do_update_clinic_settings(clinic_name="Chair Clinic", idle_timeout_minutes=240, acting_user=None)
    schedule.do_create_chair("Chair 1", acting_user=None)
    patient = do_create_patient(
        mrn="C-1", given_name="Casey", family_name="Chair", birth_date=date(1984, 2, 3), sex="female",
        at=DAY - timedelta(days=9), acting_user=None,
    )  # fmt: skip
    row = intake.do_record_intake(
        patient, diagnoses=["trd"], failed_trials=[{"adequate": True}, {"adequate": True}], contraindications={},
        weight_kg="70", height_cm="168", vitals=VITALS, pregnant=False, consent_given=True,
        at=DAY - timedelta(days=8), acting_user=staff["rn"],
    )  # fmt: skip
    intake.do_decide_eligibility(
        row, decision="eligible", note="", at=DAY - timedelta(days=7), acting_user=staff["doc"]
    )
    measures.do_record_assessment(patient, "phq9", [2] * 8 + [0], at=DAY - timedelta(days=7), acting_user=staff["rn"])
    if protocol.startswith("esketamine"):
        rems_ready(patient, staff["doc"], DAY - timedelta(days=7))
    course = courses.do_plan_course(
        patient, protocol=protocol, start_date=DAY.date(), start_time=time(9, 0), baseline_score=16,
        at=DAY - timedelta(days=6), acting_user=staff["doc"],
    )  # fmt: skip
    visit = course.visits.order_by("starts_at").first()
    if protocol.startswith("esketamine"):
        order = orders.do_sign_nasal_order(visit, dose_mg=56, at=DAY - timedelta(days=1), acting_user=staff["doc"])
    else:
        order = orders.do_sign_order(
            visit, dose_mg_per_kg=0.5, duration_min=40, concentration_mg_per_ml=1, at=DAY - timedelta(days=1),
            acting_user=staff["doc"],
        )  # fmt: skip
    orders.do_verify_order(order, at=DAY - timedelta(hours=20), acting_user=staff["crna"])
    session = sessions.do_open_session(visit, at=visit.starts_at, acting_user=staff["rn"])
    return staff, patient, visit, session


def _above_fold(page, selector: str, height: int) -> None:  # type: ignore[no-untyped-def]
    box = page.locator(selector).first.bounding_box()
    assert box is not None, selector
    assert box["y"] + box["height"] <= height, f"{selector} ends at {box['y'] + box['height']:.0f} px > {height}"


_WIDE = """[...document.querySelectorAll('body *')]
  .filter(e => !e.closest('.table-wrap') && e.getBoundingClientRect().right > window.innerWidth + 1)
  .map(e => e.tagName + '.' + e.className).slice(0, 8)"""


def _no_sideways_scroll(page) -> None:  # type: ignore[no-untyped-def]
    """No horizontal scroll at phone width; the message names what sticks out."""
    width = page.viewport_size["width"]
    assert page.evaluate("document.documentElement.scrollWidth") <= width, page.evaluate(_WIDE)


def _vitals(page, systolic: str) -> None:  # type: ignore[no-untyped-def]
    form = page.locator("form[action$='/vitals/']")
    for label, value in (("Systolic (mmHg)", systolic), ("Diastolic (mmHg)", "84"), ("Heart rate (/min)", "80")):
        form.get_by_label(label).fill(value)
    form.get_by_label("SpO₂ (%)").fill("97")
    form.get_by_role("button", name="Record vitals").click()


def test_an_iv_session_at_the_chair(page) -> None:  # type: ignore[no-untyped-def]
    with time_machine.travel(DAY, tick=True) as clock:
        staff, patient, visit, session = _clinic("iv_racemic_depression")
        url = f"/clinic/sessions/{session.pk}/"
        clock.move_to(visit.starts_at + timedelta(minutes=1))
        open_as(page, "rn", PASSWORD, url)
        # every tick survives a refusal: there is no PHQ-9 today yet
        for label in ("Identity and allergies checked", "Fasting as instructed", "Escort present", "Consent on file"):
            page.get_by_label(label).check()
        page.get_by_label("Today's PHQ-9 and suicide screen reviewed").check()
        page.get_by_label("IV access in place and patent").check()
        for label, value in (("Systolic (mmHg)", "122"), ("Diastolic (mmHg)", "78")):
            page.get_by_label(label).fill(value)
        page.get_by_label("Heart rate (/min)").fill("70")
        page.get_by_label("SpO₂ (%)").fill("98")
        page.get_by_role("button", name="Complete checklist").click()
        assert "No PHQ-9 is recorded for this patient today" in page.locator(".refusal").inner_text()
        assert page.get_by_label("IV access in place and patent").is_checked()
        assert page.get_by_label("Consent on file for this course").is_checked()
        screenshot(page, "chair-checklist-refused")
        measures.do_record_assessment(
            patient, "phq9", [1] * 8 + [0], at=visit.starts_at + timedelta(minutes=1), acting_user=staff["rn"]
        )
        page.get_by_label("Heart rate (/min)").fill("70")
        page.get_by_label("SpO₂ (%)").fill("98")
        page.get_by_label("Systolic (mmHg)").fill("122")
        page.get_by_label("Diastolic (mmHg)").fill("78")
        page.get_by_role("button", name="Complete checklist").click()
        page.wait_for_selector("text=Ready to start")
        # the CRNA starts; a stale second tab tries to start again and is told why not
        clock.move_to(visit.starts_at + timedelta(minutes=5))
        open_as(page, "crna", PASSWORD, url)
        stale = page.context.new_page()
        stale.goto(url)
        page.get_by_role("button", name="Start infusion").click()
        page.wait_for_selector("text=Infusing")
        stale.get_by_role("button", name="Start infusion").click()
        assert "Cannot start the pump while the session is infusing" in stale.locator(".refusal").inner_text()
        stale.close()
        # a high reading: the alert, the timer, the pump and vitals entry fit a tablet either way
        clock.move_to(visit.starts_at + timedelta(minutes=15))
        _vitals(page, "186")
        page.wait_for_selector("#alerts-h")
        for width, height in ((1024, 768), (768, 1024)):
            page.set_viewport_size({"width": width, "height": height})
            page.goto(url)
            for selector in (
                "#alerts-h",
                ".chair-timer",
                "button:has-text('Pause')",
                "button:has-text('Record vitals')",
            ):
                _above_fold(page, selector, height)
            page.screenshot(path=f"test-artifacts/chair-iv-running-{width}x{height}.png")
        page.set_viewport_size({"width": 390, "height": 844})
        page.goto(url)
        screenshot(page, "chair-iv-running-390")
        _no_sideways_scroll(page)
        page.set_viewport_size({"width": 1024, "height": 768})
        # acknowledging from the chair comes back to the chair
        page.goto(url)
        while page.locator("#alerts-h").count():
            page.locator("section[aria-labelledby=alerts-h]").get_by_role("link", name="Open").first.click()
            page.get_by_label("What was done").fill("Rechecked after 5 min: 150/88; prescriber informed.")
            page.get_by_role("button", name="Acknowledge").click()
            page.wait_for_url("**" + url)
        # nausea: the RN gives the standing antiemetic; it goes on the MAR
        clock.move_to(visit.starts_at + timedelta(minutes=18))
        open_as(page, "rn", PASSWORD, url)
        page.locator("#sec-prn > summary").click()
        page.get_by_label("Medicine").select_option("ondansetron_iv")
        page.get_by_label("Dose given (mg)").fill("4")
        page.get_by_label("Why").fill("Nausea at 18 min")
        page.get_by_role("button", name="Record dose given").click()
        page.wait_for_selector("text=recorded on the MAR")
        mar = page.locator("table.mar").inner_text()
        assert "Ondansetron" in mar and "Rn Tester" in mar and "Nausea at 18 min" in mar
        screenshot(page, "chair-prn-mar")
        # an early stop asks why
        clock.move_to(visit.starts_at + timedelta(minutes=20))
        open_as(page, "crna", PASSWORD, url)
        page.get_by_text("Stop early…").click()
        assert "Stopping early" in page.locator(".stop-box").inner_text()
        page.get_by_label("Reason for stopping").fill("Nausea and dizziness; patient asked to stop")
        page.get_by_role("button", name="Confirm stop").click()
        page.wait_for_selector("text=Observing")
        assert PumpEvent.objects.get(session=session, kind="stop").note.startswith("Nausea and dizziness")
        screenshot(page, "chair-iv-observing")


def test_a_nasal_session_at_the_chair(page) -> None:  # type: ignore[no-untyped-def]
    with time_machine.travel(DAY, tick=True) as clock:
        staff, patient, visit, session = _clinic("esketamine_trd")
        url = f"/clinic/sessions/{session.pk}/"
        measures.do_record_assessment(patient, "phq9", [1] * 8 + [0], at=visit.starts_at, acting_user=staff["rn"])
        clock.move_to(visit.starts_at + timedelta(minutes=1))
        open_as(page, "rn", PASSWORD, url)
        main = page.locator("main")
        assert "IV access" not in main.inner_text() and "Pre-dose checklist" in main.inner_text()
        for box in page.locator("fieldset.checks input[type=checkbox]").all():
            box.check()
        for label, value in (("Systolic (mmHg)", "122"), ("Diastolic (mmHg)", "78")):
            page.get_by_label(label).fill(value)
        page.get_by_label("Heart rate (/min)").fill("70")
        page.get_by_label("SpO₂ (%)").fill("98")
        screenshot(page, "chair-nasal-checklist")
        page.get_by_role("button", name="Complete checklist").click()
        page.wait_for_selector("text=Ready for the first device")
        clock.move_to(visit.starts_at + timedelta(minutes=3))
        rems_on_site(session, staff["doc"], visit.starts_at + timedelta(minutes=2))
        open_as(page, "crna", PASSWORD, url)
        page.get_by_role("button", name="Record device 1 taken").click()
        page.wait_for_selector("text=Devices given: 1 of 2")
        text = main.inner_text()
        for word in ("mL/h", "pump", "Pump", "infusion #"):
            assert word not in text, word
        for width, height in ((1024, 768), (768, 1024)):
            page.set_viewport_size({"width": width, "height": height})
            page.goto(url)
            for selector in (
                ".chair-timer",
                "button:has-text('Record device 2 taken')",
                "button:has-text('Record vitals')",
            ):
                _above_fold(page, selector, height)
            page.screenshot(path=f"test-artifacts/chair-nasal-{width}x{height}.png")
        page.set_viewport_size({"width": 390, "height": 844})
        page.goto(url)
        _no_sideways_scroll(page)
        screenshot(page, "chair-nasal-390")
