"""Weight entry that catches slips, in chromium: an intake in lb, the reported slip (180
typed in kg for a 180 lb patient) caught and refused until confirmed, then the order page
of a patient with a BMI over 30 offering ideal and adjusted body weight, with the soft
warning of a dose above the course's step."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
import time_machine

from ketamine_clinic.services import clinic, courses, intake, schedule
from ketamine_clinic.services.accounts import do_create_user
from ketamine_clinic.services.patients import do_create_patient
from ketamine_clinic.storage.models import Intake, Order
from tests.web.browser.conftest import open_as, screenshot

pytestmark = pytest.mark.browser

PASSWORD = "weight-password-1"
DAY = datetime(2027, 3, 1, 8, 0, tzinfo=UTC)


def test_weight_in_lb_a_kg_slip_caught_and_the_dosing_weight_chosen(page) -> None:  # type: ignore[no-untyped-def]
    with time_machine.travel(DAY - timedelta(days=3), tick=True):
        staff = {
            n: do_create_user(n, r, PASSWORD, first_name=n.title(), last_name="Tester", acting_user=None)
            for n, r in (("doc", "prescriber"), ("rn", "rn"))
        }
        clinic.do_update_clinic_settings(clinic_name="Weight Clinic", idle_timeout_minutes=240, acting_user=None)
        schedule.do_create_chair("Chair 1", acting_user=None)
        patient = do_create_patient(
            mrn="W-0001",
            given_name="Willa",
            family_name="Weigh",
            birth_date=date(1979, 4, 5),
            sex="female",
            at=DAY - timedelta(days=9),
            acting_user=None,
        )
        _open = lambda who, path: open_as(page, who, PASSWORD, path)  # noqa: E731
        _open("rn", f"/clinic/patients/{patient.pk}/intake/")
        page.get_by_label("Treatment-resistant depression").check()
        for i, drug in enumerate(("sertraline", "bupropion")):
            page.locator(f"input[name=trial_{i}_drug]").fill(drug)
            page.locator(f"input[name=trial_{i}_weeks]").fill("8")
            page.locator(f"input[name=trial_{i}_adequate]").check()
        page.locator("#id_weight").fill("180")
        page.get_by_label("Weight unit").select_option("lb")
        page.get_by_label("Height (cm)").fill("165")
        for label, value in (
            ("Systolic (mmHg)", "122"),
            ("Diastolic (mmHg)", "78"),
            ("Heart rate (/min)", "70"),
            ("SpO₂ (%)", "98"),
        ):
            page.get_by_label(label).fill(value)
        page.get_by_label("Informed consent signed").check()
        page.get_by_role("button", name="Record intake and screen").click()
        page.wait_for_selector("text=81.6 kg (179.9 lb)")
        assert "entered as 180.0 lb" in page.locator("main").inner_text()

        _open("rn", f"/clinic/patients/{patient.pk}/weight/")
        page.locator("#id_weight").fill("180")
        page.get_by_role("button", name="Record").click()
        text = page.locator("main").inner_text()
        assert "entered in kg instead of lb" in text and "BMI 66.1" in text
        assert Intake.objects.filter(patient=patient).count() == 1
        page.set_viewport_size({"width": 390, "height": 844})
        screenshot(page, "weight-slip-caught-phone")
        assert page.evaluate("document.documentElement.scrollWidth") <= 391
        page.set_viewport_size({"width": 1024, "height": 768})
        # the real weight has changed: 102 kg at 165 cm (BMI 37.5), confirmed
        page.locator("#id_weight").fill("102")
        page.get_by_label("I have re-checked this weight").check()
        page.get_by_role("button", name="Record").click()
        page.wait_for_selector("text=Weight recorded: 102.0 kg (224.9 lb)")

        row = Intake.objects.filter(patient=patient).order_by("-recorded_at", "-id").first()
        intake.do_decide_eligibility(
            row, decision="eligible", note="", at=DAY - timedelta(days=2), acting_user=staff["doc"]
        )
        course = courses.do_plan_course(
            patient,
            protocol="iv_racemic_depression",
            start_date=DAY.date(),
            at=DAY - timedelta(days=2),
            acting_user=staff["doc"],
        )
        visit = course.visits.order_by("starts_at").first()
        _open("doc", f"/clinic/visits/{visit.pk}/order/")
        text = page.locator("main").inner_text()
        assert "BMI 30 or more" in text and "56.9 kg" in text  # ideal: 45.5 + 2.3 x 4.96
        page.get_by_label("Dose on").select_option("adjusted")
        page.get_by_label("Dose (mg/kg)").fill("0.75")
        page.get_by_role("button", name="Sign order").click()
        assert "above the course's step of 0.5 mg/kg" in page.locator("main").inner_text()
        assert not Order.objects.exists()
        page.get_by_label("I confirm this dose despite the warnings shown").check()
        page.get_by_role("button", name="Sign order").click()
        page.wait_for_selector("text=Order signed")
        order = Order.objects.get()
        assert (order.weight_basis, str(order.dosing_weight_kg)) == ("adjusted", "74.9")
        _open("rn", f"/clinic/orders/{order.pk}/verify/")
        verify = page.locator("main").inner_text()
        assert "Adjusted body weight: 74.9 kg" in verify and "The prescriber confirmed" in verify
        page.set_viewport_size({"width": 820, "height": 1180})
        screenshot(page, "order-verify-dosing-weight-tablet")
