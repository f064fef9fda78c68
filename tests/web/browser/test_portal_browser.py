"""The patient's side on a phone-sized screen: a reminder and a pre-visit link arrive, the
PHQ-9 is answered through the link, the portal pages pass axe-core and work from the
keyboard, and the session record and progress report PDFs show the answers."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
import time_machine

from ketamine_clinic.services import outreach, sessions
from ketamine_clinic.storage.models import Patient, SmsOutbox, VisitRequest
from ketamine_clinic.web.views.portal import LEARN
from tests.conftest import PASSWORD
from tests.support.axe import assert_accessible
from tests.web.browser.conftest import open_as, screenshot
from tests.web.test_documents import pdf_text

pytestmark = pytest.mark.browser

PHONE = {"width": 390, "height": 844}


@pytest.fixture
def phone(browser, live_server, transactional_db):  # type: ignore[no-untyped-def]
    context = browser.new_context(
        viewport=PHONE, device_scale_factor=2, is_mobile=True, has_touch=True, base_url=live_server.url
    )
    context.set_default_timeout(10_000)
    tab = context.new_page()
    yield tab
    context.close()


def _no_sideways_scroll(tab) -> None:  # type: ignore[no-untyped-def]
    width = tab.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"] + 1, f"{tab.url} scrolls sideways ({width}px)"


def test_a_patient_gets_a_reminder_and_link_answers_on_a_phone_and_the_pdfs_show_it(
    phone, course, verified_order, patient, nurse, prescriber
) -> None:
    Patient.objects.filter(pk=patient.pk).update(phone="+15555550199")
    visit = course.visits.order_by("starts_at").first()
    with time_machine.travel(visit.starts_at - timedelta(hours=40), tick=True):
        outreach.sweep()
        texts = list(SmsOutbox.objects.order_by("id").values_list("body", flat=True))
        assert any("a reminder of your appointment" in t for t in texts)
        link = next(t for t in texts if "/q/" in t)
        token = re.search(r"/q/([A-Za-z0-9_-]+)/", link).group(1)  # type: ignore[union-attr]

        phone.goto(f"/q/{token}/")
        assert_accessible(phone, "pre-visit questionnaire")
        _no_sideways_scroll(phone)
        for item in range(1, 10):
            group = phone.locator("fieldset").nth(item - 1)
            group.get_by_label("Several days" if item < 9 else "Not at all").check()
        screenshot(phone, "portal-previsit-phone")
        phone.get_by_role("button", name="Send my answers").click()
        phone.get_by_role("heading", name="Thank you").wait_for()
        assert_accessible(phone, "thank-you page")
        phone.goto(f"/q/{token}/")
        assert "already used" in phone.content()

        open_as(phone, "patient1", PASSWORD, "/me/")
        assert "When your course started your score was 16." in phone.content()
        assert_accessible(phone, "/me/")
        _no_sideways_scroll(phone)
        screenshot(phone, "portal-home-phone")
        for path in ("/me/appointments/", "/me/plan/", "/me/aftercare/", "/me/learn/") + tuple(
            f"/me/learn/{slug}/" for slug, _ in LEARN
        ):
            phone.goto(path)
            assert_accessible(phone, path)
            _no_sideways_scroll(phone)
        screenshot(phone, "portal-learn-phone")

        # keyboard only: type a message and send the request without the pointer
        phone.goto("/me/appointments/")
        second = course.visits.order_by("starts_at")[1]
        phone.locator(f"#note-{second.pk}").focus()
        phone.keyboard.type("away that week")
        phone.keyboard.press("Tab")
        phone.keyboard.press("Enter")
        phone.get_by_text("Your request is with the front desk").wait_for()
        assert VisitRequest.objects.get().kind == "reschedule"
        screenshot(phone, "portal-appointments-phone")

        session = sessions.do_open_session(visit, at=visit.starts_at, acting_user=nurse)
        open_as(phone, "prescriber1", PASSWORD, "/clinic/")
        record = pdf_text(phone.request.get(f"/clinic/sessions/{session.pk}/record.pdf").body())
        progress = pdf_text(phone.request.get(f"/clinic/patients/{patient.pk}/progress.pdf").body())
    assert re.search(r"PHQ-9\s+8\s+mild", record), record
    assert re.search(r"PHQ-9\s+8\s+mild", progress), progress
