"""Merging a duplicate registration in chromium: the front desk sees the duplicate flag on
the patient page, compares the two records side by side, confirms with a reason, lands on
the kept record, and the duplicate's old address leads there too."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
import time_machine

from ketamine_clinic.services import schedule
from ketamine_clinic.services.accounts import do_create_user
from ketamine_clinic.services.patients import do_create_patient
from ketamine_clinic.storage.models import Patient, WaitlistEntry
from tests.support.axe import assert_accessible
from tests.web.browser.conftest import open_as, screenshot

pytestmark = pytest.mark.browser

PASSWORD = "merge-browser-password-1"
MONDAY = datetime(2027, 3, 1, 9, 30, tzinfo=UTC)


def test_the_front_desk_merges_a_duplicate_registration(page) -> None:  # type: ignore[no-untyped-def]
    with time_machine.travel(MONDAY, tick=True):
        desk = do_create_user("desk", "front_desk", PASSWORD, first_name="Dana", last_name="Desk", acting_user=None)
        first, second = (
            do_create_patient(
                mrn="",
                given_name="Robin",
                family_name="Twice",
                birth_date=date(1985, 4, 12),
                sex="female",
                phone=phone,
                at=MONDAY - timedelta(days=d),
                acting_user=desk,
            )  # fmt: skip
            for phone, d in (("555-0100", 30), ("", 2))
        )
        schedule.do_add_to_waitlist(second, wanted="Any weekday morning", at=MONDAY, acting_user=desk)

        open_as(page, "desk", PASSWORD, f"/desk/patients/{first.pk}/")
        flag = page.locator("#duplicate-flag")
        assert second.mrn in flag.inner_text()
        flag.get_by_role("link", name="Compare and merge").click()
        compare = page.locator("#merge-compare")
        assert "555-0100" in compare.inner_text() and "Duplicate" in compare.inner_text()
        assert_accessible(page, "merge-compare")
        screenshot(page, "merge-compare")

        merge = page.get_by_role("button", name=f"Merge {second.mrn} into {first.mrn}")
        page.get_by_label("Why these are the same person").fill("same")
        merge.click()
        assert "reason must be 10 to 300 characters" in page.locator("#merge-error").inner_text()
        assert Patient.objects.get(pk=second.pk).status == "active"

        page.get_by_label("Why these are the same person").fill("Registered again on arrival; same ID card")
        page.get_by_role("button", name=f"Merge {second.mrn} into {first.mrn}").click()
        page.wait_for_url(f"**/desk/patients/{first.pk}/")
        assert "was merged into Robin Twice" in page.locator(".messages").inner_text()
        assert page.locator("#duplicate-flag").count() == 0
        assert WaitlistEntry.objects.get().patient_id == first.pk

        page.goto(f"/desk/patients/{second.pk}/")
        page.wait_for_url(f"**/desk/patients/{first.pk}/")
        assert "merged into this one" in page.locator(".messages").inner_text()
        page.goto("/search/?q=Twice")
        assert first.mrn in page.content() and second.mrn not in page.content()
