"""An esketamine course for depression with suicidal thoughts in chromium, from REMS
enrolment to a submitted Patient Monitoring Form: the prescriber enrols the patient, plans
the course with its oral antidepressant and signs 84 mg; the CRNA records the prescriber on
site, pulse oximetry and the lot, and gives three devices; after discharge the nurse
completes the form, sees it on the dashboard as due and marks it submitted."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
import time_machine

from ketamine_clinic.domain import chairside
from ketamine_clinic.services import clinic, intake, orders, rems, schedule, sessions
from ketamine_clinic.services.accounts import do_create_user
from ketamine_clinic.services.patients import do_create_patient
from ketamine_clinic.storage.models import Course, PumpEvent, RemsDeviceLot
from tests.conftest import VITALS, complete_checklist
from tests.web.browser.conftest import open_as, screenshot

pytestmark = pytest.mark.browser

PASSWORD = "mdsi-rems-password-1"
DAY = datetime(2027, 3, 1, 8, 0, tzinfo=UTC)  # a Monday


def _as(page, username: str, path: str) -> None:  # type: ignore[no-untyped-def]
    open_as(page, username, PASSWORD, path)


def test_an_mdsi_course_from_enrolment_to_a_submitted_monitoring_form(page) -> None:  # type: ignore[no-untyped-def]
    with time_machine.travel(DAY - timedelta(days=3), tick=True) as clock:
        staff = {
            n: do_create_user(n, r, PASSWORD, first_name=n.title(), last_name="Tester", acting_user=None)
            for n, r in (("doc", "prescriber"), ("rn", "rn"), ("crna", "crna"), ("boss", "admin"))
        }
        clinic.do_update_clinic_settings(clinic_name="Nasal Clinic", idle_timeout_minutes=240, acting_user=None)
        schedule.do_create_chair("Chair 1", acting_user=None)
        patient = do_create_patient(
            mrn="M-0001",
            given_name="Morgan",
            family_name="Mdsi",
            birth_date=date(1984, 2, 3),
            sex="male",
            at=DAY - timedelta(days=9),
            acting_user=None,
        )
        record = intake.do_record_intake(
            patient,
            diagnoses=["mdsi"],
            failed_trials=[],
            contraindications={},
            weight_kg="82",
            height_cm="180",
            vitals=VITALS,
            pregnant=False,
            consent_given=True,
            at=DAY - timedelta(days=3),
            acting_user=staff["rn"],
        )
        intake.do_decide_eligibility(
            record,
            decision="eligible",
            note="Same-day risk assessment done; safety plan in place.",
            at=DAY - timedelta(days=3),
            acting_user=staff["doc"],
        )
        # the administrator records the setting's certification
        _as(page, "boss", "/admin-area/rems/")
        page.get_by_label("REMS certification id").fill("SPR-7781")
        page.get_by_label("Healthcare setting name").fill("Nasal Clinic")
        page.get_by_label("Authorized representative").fill("Dr Doc Tester")
        page.get_by_label("Certified on").fill("2027-01-04")
        page.get_by_role("button", name="Record").click()
        page.wait_for_selector("text=SPR-7781")
        # the prescriber enrols the patient, plans the MDSI course and signs 84 mg
        _as(page, "doc", f"/clinic/patients/{patient.pk}/rems/")
        page.get_by_label("REMS patient id").fill("PT-55012")
        page.get_by_label("Enrolled on").fill((DAY - timedelta(days=3)).date().isoformat())
        page.get_by_role("button", name="Record enrolment").click()
        page.wait_for_selector("text=REMS enrolment recorded")
        page.goto(f"/clinic/patients/{patient.pk}/course/")
        page.get_by_label("Protocol").select_option("esketamine_mdsi")
        page.get_by_label("Start date").fill(DAY.date().isoformat())
        page.get_by_role("button", name="Plan and book the series").click()
        assert "oral antidepressant is required" in page.locator("main").inner_text()
        page.get_by_label("Oral antidepressant (esketamine)").fill("escitalopram 10 mg daily")
        page.get_by_role("button", name="Plan and book the series").click()
        page.wait_for_selector("text=Course planned")
        chart = page.locator("main").inner_text()
        assert "enrolled" in chart and "PT-55012" in chart and "escitalopram 10 mg daily" in chart
        course = Course.objects.get(patient=patient)
        visit = course.visits.order_by("starts_at").first()
        page.goto(f"/clinic/visits/{visit.pk}/order/")
        assert page.get_by_label("Esketamine dose").input_value() == "84"
        page.get_by_role("button", name="Sign order").click()
        page.wait_for_selector("text=Nasal-spray order signed")
        order = visit.orders.get()
        assert (int(order.dose_mg), order.devices) == (84, 3)
        orders.do_verify_order(order, at=DAY - timedelta(days=1), acting_user=staff["rn"])

        clock.move_to(visit.starts_at)
        session = sessions.do_open_session(visit, at=visit.starts_at, acting_user=staff["rn"])
        complete_checklist(
            session,
            items={n: True for n, _ in chairside.CHECKLIST},
            vitals={**VITALS, "systolic_mmhg": 128},
            at=visit.starts_at,
            acting_user=staff["rn"],
        )
        url = f"/clinic/sessions/{session.pk}/"
        _as(page, "crna", url)
        page.get_by_role("button", name="Record device 1 taken").click()
        assert "prescriber on site" in page.locator(".messages").inner_text()
        panel = page.locator("section.rems-panel")
        panel.get_by_label("Prescriber on site").select_option(label="Doc Tester")
        panel.get_by_label("Pulse oximeter on the patient").check()
        panel.get_by_label("Device lot number").fill("24EK119")
        panel.get_by_label("Lot expiry").fill("2028-06-30")
        panel.get_by_role("button", name="Record").click()
        page.wait_for_selector("text=24EK119, expires 2028-06-30")
        screenshot(page, "esketamine-rems-panel")
        for n in (1, 2, 3):
            clock.move_to(visit.starts_at + timedelta(minutes=1 + 6 * (n - 1)))  # at least 5 minutes apart
            page.get_by_role("button", name=f"Record device {n} taken").click()
            page.wait_for_selector(f"text=Devices given: {n} of 3")
        assert RemsDeviceLot.objects.filter(event__session=session).count() == 3

        # blood pressure at 40 minutes and before leaving, discharge after 2 hours
        session.refresh_from_db()
        sessions.do_record_vitals(
            session,
            {**VITALS, "systolic_mmhg": 142},
            at=visit.starts_at + timedelta(minutes=41),
            acting_user=staff["rn"],
        )
        sessions.do_record_vitals(session, VITALS, at=visit.starts_at + timedelta(minutes=138), acting_user=staff["rn"])
        sessions.do_discharge(
            session,
            aldrete=[2] * 5,
            padss=[2] * 5,
            escort_present=True,
            dissociation_resolved=True,
            aftercare_given=True,
            at=visit.starts_at + timedelta(minutes=140),
            acting_user=staff["rn"],
        )

        clock.move_to(visit.starts_at + timedelta(days=2))
        _as(page, "rn", "/clinic/")
        dashboard = page.locator("main").inner_text()
        assert "REMS monitoring forms" in dashboard and "Morgan Mdsi" in dashboard
        page.locator("#rems-forms").get_by_role("link", name="Morgan Mdsi").click()
        page.wait_for_selector("text=Still missing")
        form_text = page.locator("main").inner_text()
        for expected in ("PT-55012", "SPR-7781", "24EK119", "128/78 mmHg", "142/78 mmHg", "120/78 mmHg", "84 mg"):
            assert expected in form_text, expected
        page.locator("input[name=sedation][value=no]").check()
        page.locator("input[name=dissociation][value=yes]").check()
        page.locator("input[name=respiratory_depression][value=no]").check()
        page.get_by_label("Ready to leave (minutes after the first device)").fill("100")
        page.get_by_role("button", name="Save answers").click()
        page.wait_for_selector("text=Monitoring form answers saved")
        page.get_by_label("Submission reference").fill("FAX-20270303-1")
        page.get_by_role("button", name="Mark submitted").click()
        page.wait_for_selector("text=Monitoring form marked submitted")
        screenshot(page, "esketamine-rems-form-submitted")
        for width, height, name in ((390, 844, "phone"), (820, 1180, "tablet")):
            page.set_viewport_size({"width": width, "height": height})
            screenshot(page, f"esketamine-rems-form-{name}")
            assert page.evaluate("document.documentElement.scrollWidth") <= width + 1, name
        assert rems.session_record(session).submission_reference == "FAX-20270303-1"
        _as(page, "rn", "/clinic/")
        assert "REMS monitoring forms" not in page.locator("main").inner_text()
        assert PumpEvent.objects.filter(session=session, kind="device").count() == 3
