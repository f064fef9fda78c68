"""The suicide-risk pathway in chromium: the patient answers at home -> crisis page -> the
on-call prescriber's message is in the outbox -> dosing is refused -> the prescriber takes
the alert, records today's C-SSRS and an assessment -> the infusion proceeds."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta

import pytest
import time_machine
from django.core import mail

from ketamine_clinic.domain import chairside
from ketamine_clinic.services import clinic, courses, intake, measures, orders, schedule, sessions
from ketamine_clinic.services.accounts import do_create_user
from ketamine_clinic.services.jobs import run_due_jobs
from ketamine_clinic.services.patients import do_create_patient
from ketamine_clinic.storage.models import InfusionSession, User
from tests.conftest import VITALS, complete_checklist
from tests.web.browser.conftest import open_as, screenshot

pytestmark = pytest.mark.browser

PASSWORD = "suicide-path-password-1"
DAY = datetime(2027, 3, 2, 8, 0, tzinfo=UTC)  # a Tuesday


def _as(page, username: str, path: str) -> None:  # type: ignore[no-untyped-def]
    open_as(page, username, PASSWORD, path)


def _clinic():  # type: ignore[no-untyped-def]
    people = {
        name: do_create_user(
            name,
            role,
            PASSWORD,
            first_name=name.title(),
            last_name="Tester",
            email=f"{name}@clinic.test",
            acting_user=None,
        )
        for name, role in (("doc", "prescriber"), ("rn", "rn"), ("crna", "crna"), ("pat", "patient"))
    }
    clinic.do_update_clinic_settings(clinic_name="Safety Clinic", idle_timeout_minutes=240, acting_user=None)
    schedule.do_create_chair("Chair 1", acting_user=None)
    patient = do_create_patient(
        mrn="S-0001",
        given_name="Robin",
        family_name="Safety",
        birth_date=date(1984, 2, 3),
        sex="female",
        at=DAY - timedelta(days=9),
        user=people["pat"],
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
        weight_kg="70",
        height_cm="170",
        vitals=VITALS,
        pregnant=False,
        consent_given=True,
        at=DAY - timedelta(days=8),
        acting_user=people["rn"],
    )
    intake.do_decide_eligibility(
        record, decision="eligible", note="", at=DAY - timedelta(days=7), acting_user=people["doc"]
    )
    course = courses.do_plan_course(
        patient,
        protocol="iv_racemic_depression",
        start_date=DAY.date(),
        start_time=time(10, 0),
        baseline_score=18,
        at=DAY - timedelta(days=6),
        acting_user=people["doc"],
    )
    visit = course.visits.order_by("starts_at").first()
    order = orders.do_sign_order(
        visit,
        dose_mg_per_kg=0.5,
        duration_min=40,
        concentration_mg_per_ml=1,
        at=DAY - timedelta(days=1),
        acting_user=people["doc"],
    )
    orders.do_verify_order(order, at=DAY - timedelta(hours=20), acting_user=people["crna"])
    return patient, visit


def test_a_patient_at_risk_reaches_the_prescriber_and_no_dose_is_given_until_assessed(page) -> None:  # type: ignore[no-untyped-def]
    with time_machine.travel(DAY, tick=True) as clock:
        patient, visit = _clinic()
        clock.move_to(visit.starts_at - timedelta(minutes=40))
        # at home, before the visit: PHQ-9 with item 9 = 2
        _as(page, "pat", "/me/questionnaires/phq9/")
        for item, value in enumerate([2, 2, 2, 1, 1, 2, 1, 1, 2], start=1):
            page.locator(f"input[name=item_{item}][value='{value}']").check()
        page.get_by_role("button", name="Send my answers").click()
        crisis = page.locator("main").inner_text()
        assert "988" in crisis and "911" in crisis and "emergency department" in crisis
        assert "not watched in real time" in crisis
        screenshot(page, "suicide-crisis-page")
        # the worker sends the on-call message
        assert run_due_jobs() >= 1
        (message,) = [m for m in mail.outbox if m.subject.startswith("URGENT")]
        assert message.to == ["doc@clinic.test"] and "Robin" not in message.body
        alert_path = re.search(r"(/clinic/alerts/\d+/)", message.body).group(1)  # type: ignore[union-attr]
        # chair-side: checklist done, but the CRNA may not start the pump
        rn = User.objects.get(username="rn")
        session = sessions.do_open_session(visit, at=visit.starts_at - timedelta(minutes=10), acting_user=rn)
        # item 9 was positive: the checklist's questionnaire item needs today's C-SSRS screener [S70]
        measures.do_record_assessment(
            patient,
            "cssrs_screen",
            [1, 0, None, None, None, 0, None],
            at=visit.starts_at - timedelta(minutes=9),
            acting_user=rn,
        )
        complete_checklist(
            session,
            items={n: True for n, _ in chairside.CHECKLIST},
            vitals=VITALS,
            at=visit.starts_at - timedelta(minutes=8),
            acting_user=rn,
        )
        _as(page, "crna", f"/clinic/sessions/{session.pk}/")
        page.get_by_role("button", name="Start infusion").click()
        assert "urgent suicide-risk alert is open" in page.locator("main").inner_text()
        assert InfusionSession.objects.get(pk=session.pk).status == "ready"
        # the RN cannot close it
        _as(page, "rn", alert_path)
        assert "Only a prescriber" in page.locator("main").inner_text()
        # the prescriber takes it, records today's C-SSRS and the assessment
        _as(page, "doc", alert_path)
        page.get_by_role("button", name="I am taking this alert").click()
        page.wait_for_selector("text=You have taken this alert")
        form = page.locator("form.questionnaire")
        if not form.is_visible():  # the RN's screener of the morning is listed: the form is folded
            page.locator("details.card-sub:has(form.questionnaire) > summary").click()
        for question, answer in ((1, "1"), (2, "0"), (6, "0")):
            form.locator(f"input[name=item_{question}][value='{answer}']").check()
        form.get_by_role("button", name="Save C-SSRS").click()
        page.wait_for_selector("text=C-SSRS recorded")
        page.get_by_label("C-SSRS done today").select_option(index=1)
        page.get_by_label("Low", exact=True).check()
        page.locator("input[name=safety_plan_reviewed][value=yes]").check()
        page.get_by_label("Safe to treat today").check()
        page.get_by_label("Assessment and plan").fill(
            "Passive thoughts only, no intent or plan; protective factors strong; safety plan reviewed with escort."
        )
        screenshot(page, "suicide-assessment-form")
        page.get_by_role("button", name="Record assessment and close the alert").click()
        page.wait_for_selector("text=Assessment recorded")
        # the infusion proceeds
        clock.move_to(visit.starts_at + timedelta(minutes=2))
        _as(page, "crna", f"/clinic/sessions/{session.pk}/")
        page.get_by_role("button", name="Start infusion").click()
        page.wait_for_selector("text=Predicted plasma concentration")
        assert InfusionSession.objects.get(pk=session.pk).status == "running"
