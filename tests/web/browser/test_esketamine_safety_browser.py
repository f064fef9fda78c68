"""An esketamine session in chromium: a stop-level blood pressure after the first device
refuses the next device until a clinician has acted on the alert."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
import time_machine

from ketamine_clinic.domain import chairside
from ketamine_clinic.services import clinic, courses, intake, orders, schedule, sessions
from ketamine_clinic.services.accounts import do_create_user
from ketamine_clinic.services.patients import do_create_patient
from ketamine_clinic.storage.models import PumpEvent
from tests.conftest import VITALS, complete_checklist
from tests.support.rems import rems_on_site, rems_ready
from tests.web.browser.conftest import open_as, screenshot

pytestmark = pytest.mark.browser

PASSWORD = "esketamine-password-1"
DAY = datetime(2027, 3, 4, 8, 0, tzinfo=UTC)


def _as(page, username: str, path: str) -> None:  # type: ignore[no-untyped-def]
    open_as(page, username, PASSWORD, path)


def test_a_stop_level_bp_after_the_first_device_refuses_the_next(page) -> None:  # type: ignore[no-untyped-def]
    with time_machine.travel(DAY, tick=True) as clock:
        staff = {
            n: do_create_user(n, r, PASSWORD, first_name=n.title(), last_name="Tester", acting_user=None)
            for n, r in (("doc", "prescriber"), ("rn", "rn"), ("crna", "crna"))
        }
        clinic.do_update_clinic_settings(clinic_name="Nasal Clinic", idle_timeout_minutes=240, acting_user=None)
        schedule.do_create_chair("Chair 1", acting_user=None)
        patient = do_create_patient(
            mrn="N-0001",
            given_name="Alex",
            family_name="Nasal",
            birth_date=date(1981, 7, 8),
            sex="female",
            at=DAY - timedelta(days=9),
            acting_user=None,
        )
        record = intake.do_record_intake(
            patient,
            diagnoses=["trd"],
            failed_trials=[
                {"drug": "sertraline", "weeks": 8, "adequate": True},
                {"drug": "bupropion", "weeks": 8, "adequate": True},
            ],
            contraindications={},
            weight_kg="64",
            height_cm="165",
            vitals=VITALS,
            pregnant=False,
            consent_given=True,
            at=DAY - timedelta(days=8),
            acting_user=staff["rn"],
        )
        intake.do_decide_eligibility(
            record, decision="eligible", note="", at=DAY - timedelta(days=7), acting_user=staff["doc"]
        )
        course = courses.do_plan_course(
            patient,
            protocol="esketamine_trd",
            start_date=DAY.date(),
            at=DAY - timedelta(days=6),
            acting_user=staff["doc"],
        )
        visit = course.visits.order_by("starts_at").first()
        rems_ready(patient, staff["doc"], DAY - timedelta(days=1))
        order = orders.do_sign_nasal_order(visit, dose_mg=56, at=DAY - timedelta(days=1), acting_user=staff["doc"])
        orders.do_verify_order(order, at=DAY - timedelta(hours=20), acting_user=staff["rn"])
        clock.move_to(visit.starts_at)
        session = sessions.do_open_session(visit, at=visit.starts_at, acting_user=staff["rn"])
        rems_on_site(session, staff["doc"], visit.starts_at)
        complete_checklist(
            session,
            items={n: True for n, _ in chairside.CHECKLIST},
            vitals=VITALS,
            at=visit.starts_at,
            acting_user=staff["rn"],
        )
        url = f"/clinic/sessions/{session.pk}/"
        _as(page, "crna", url)
        page.get_by_role("button", name="Record device 1 taken").click()
        page.wait_for_selector("text=Devices given")
        clock.move_to(visit.starts_at + timedelta(minutes=4))
        _as(page, "rn", url)
        form = page.locator("form[action$='/vitals/']")
        for label, value in (
            ("Systolic (mmHg)", "215"),
            ("Diastolic (mmHg)", "120"),
            ("Heart rate (/min)", "88"),
            ("SpO₂ (%)", "97"),
        ):
            form.get_by_label(label).fill(value)
        form.get_by_role("button", name="Record vitals").click()
        page.wait_for_selector("text=215/120")
        clock.move_to(visit.starts_at + timedelta(minutes=7))
        _as(page, "crna", url)
        assert "No dose now." in page.locator("main").inner_text()
        page.get_by_role("button", name="Record device 2 taken").click()
        assert "stop alert" in page.locator(".messages").inner_text()
        screenshot(page, "esketamine-device-refused")
        assert PumpEvent.objects.filter(session=session, kind="device").count() == 1
        # the CRNA acts on the alerts, rechecks, and the next device may be given
        while page.locator("#alerts-h").count():
            page.locator("section[aria-labelledby=alerts-h]").get_by_role("link", name="Open").first.click()
            page.get_by_label("What was done").fill("Rechecked after 10 min: 150/88; prescriber informed, proceed.")
            page.get_by_role("button", name="Acknowledge").click()
            page.wait_for_url("**" + url)
        # acknowledged is not enough: the last reading is still 215/120
        page.get_by_role("button", name="Record device 2 taken").click()
        assert "record a new reading" in page.locator(".messages").inner_text()
        form = page.locator("form[action$='/vitals/']")
        for label, value in (
            ("Systolic (mmHg)", "150"),
            ("Diastolic (mmHg)", "88"),
            ("Heart rate (/min)", "80"),
            ("SpO₂ (%)", "97"),
        ):
            form.get_by_label(label).fill(value)
        form.get_by_role("button", name="Record vitals").click()
        page.wait_for_selector("text=150/88")
        page.get_by_role("button", name="Record device 2 taken").click()
        page.wait_for_selector("text=observing")
        assert PumpEvent.objects.filter(session=session, kind="device").count() == 2
