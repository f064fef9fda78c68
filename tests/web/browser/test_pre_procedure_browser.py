"""The pre-procedure record and on-screen consent in chromium: the RN records allergies,
medications (their classes detected), ASA and airway, fasting, the escort and ICD-10-CM
diagnoses; a slip is named and nothing typed is lost; the patient signs the consent by
typing their name; the chart and the chair show allergies and medication classes."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
import time_machine

from ketamine_clinic.services import clinic
from ketamine_clinic.services.accounts import do_create_user
from ketamine_clinic.services.patients import do_create_patient
from ketamine_clinic.storage.models import ConsentSignature, PreProcedureRecord
from tests.web.browser.conftest import open_as, screenshot

pytestmark = pytest.mark.browser

PASSWORD = "pre-procedure-password-1"
DAY = datetime(2027, 3, 2, 9, 0, tzinfo=UTC)


def test_the_rn_records_the_pre_procedure_record_and_the_patient_signs_consent(page) -> None:  # type: ignore[no-untyped-def]
    with time_machine.travel(DAY, tick=True):
        do_create_user("rn", "rn", PASSWORD, first_name="Rae", last_name="Nurse", acting_user=None)
        clinic.do_update_clinic_settings(clinic_name="Pre Clinic", idle_timeout_minutes=240, acting_user=None)
        patient = do_create_patient(
            mrn="P-1", given_name="Morgan", family_name="Record", birth_date=date(1979, 5, 6), sex="male",
            at=DAY - timedelta(days=3), acting_user=None,
        )  # fmt: skip
        url = f"/clinic/patients/{patient.pk}/pre-procedure/"
        open_as(page, "rn", PASSWORD, url)
        page.get_by_label("Allergy 1: substance").fill("Penicillin")
        page.get_by_label("Allergy 1: reaction").fill("Hives")
        page.get_by_label("Medication 1", exact=True).fill("Lorazepam")
        page.locator("#med_dose_0").fill("1 mg at night")
        page.get_by_label("Medication 2", exact=True).fill("Phenelzine")
        page.locator("input[name=asa_class][value='2']").check()
        page.get_by_label("Airway note").fill("Mallampati II; no dentures")
        page.get_by_label("Last solid food").fill((DAY - timedelta(hours=5)).strftime("%Y-%m-%dT%H:%M"))
        page.get_by_label("Escort's name").fill("Sam Record")
        page.get_by_label("Escort's phone").fill("later")
        page.locator("input[name=diagnoses][value='F33.2']").check()
        page.get_by_role("button", name="Save the pre-procedure record").click()
        main = page.locator("main")
        assert "escort phone must be a telephone number" in main.inner_text()
        assert page.get_by_label("Allergy 1: substance").input_value() == "Penicillin"
        assert page.locator("input[name=diagnoses][value='F33.2']").is_checked()
        page.get_by_label("Escort's phone").fill("555-010-2030")
        page.get_by_role("button", name="Save the pre-procedure record").click()
        page.wait_for_selector("text=Pre-procedure record saved")
        summary = page.locator(".pre-summary").inner_text()
        assert "Penicillin (Hives)" in summary and "Benzodiazepine" in summary and "MAOI" in summary
        assert "F33.2" in summary and "ASA II" in summary
        assert PreProcedureRecord.objects.get().medications[1]["classes"] == ["maoi"]
        for width, height in ((1024, 768), (768, 1024), (390, 844)):
            page.set_viewport_size({"width": width, "height": height})
            page.goto(url)
            assert page.evaluate("document.documentElement.scrollWidth") <= width
            page.screenshot(path=f"test-artifacts/pre-procedure-{width}.png", full_page=True)
        page.set_viewport_size({"width": 1024, "height": 768})
        # consent, signed on screen
        page.get_by_role("link", name="Consent").first.click()
        page.wait_for_selector("text=Consent to intravenous ketamine treatment")
        page.get_by_label("Patient's signature: type your full name").fill("Morgan Record")
        page.get_by_role("button", name="Sign").click()
        assert "read and understood" in page.locator("main").inner_text()
        assert page.get_by_label("Patient's signature: type your full name").input_value() == "Morgan Record"
        page.get_by_label("I have read this text").check()
        page.get_by_role("button", name="Sign").click()
        page.wait_for_selector("text=Consent signed")
        screenshot(page, "consent-signed")
        signature = ConsentSignature.objects.get()
        assert signature.version == "2026-11-v1" and len(signature.text_sha256) == 64
        # the chart shows the record at a glance
        page.goto(f"/clinic/patients/{patient.pk}/")
        assert "Penicillin (Hives)" in page.locator(".pre-summary").inner_text()
