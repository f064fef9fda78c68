"""Tried as a new user would: infusion #2 opened on the day of #1 is refused with a clear
message; a prescriber moves it to today with a reason; it is still refused until the
clinic's minimum interval since the last dose has passed."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import pytest
import time_machine

from ketamine_clinic.domain import chairside
from ketamine_clinic.services import clinic, courses, intake, orders, schedule, sessions
from ketamine_clinic.services.accounts import do_create_user
from ketamine_clinic.services.patients import do_create_patient
from ketamine_clinic.storage.models import InfusionSession
from tests.conftest import VITALS, complete_checklist
from tests.web.browser.conftest import open_as, screenshot

pytestmark = pytest.mark.browser

PASSWORD = "interval-password-1"
WEDNESDAY = datetime(2027, 3, 3, 8, 0, tzinfo=UTC)


def _as(page, username: str, path: str) -> None:  # type: ignore[no-untyped-def]
    open_as(page, username, PASSWORD, path)


def test_a_second_infusion_on_the_same_day_is_refused_with_a_clear_message(page) -> None:  # type: ignore[no-untyped-def]
    with time_machine.travel(WEDNESDAY, tick=True) as clock:
        staff = {
            n: do_create_user(n, r, PASSWORD, first_name=n.title(), last_name="Tester", acting_user=None)
            for n, r in (("doc", "prescriber"), ("rn", "rn"), ("crna", "crna"))
        }
        clinic.do_update_clinic_settings(clinic_name="Interval Clinic", idle_timeout_minutes=240, acting_user=None)
        for name in ("Chair 1", "Chair 2"):
            schedule.do_create_chair(name, acting_user=None)
        patient = do_create_patient(
            mrn="I-0001",
            given_name="Casey",
            family_name="Interval",
            birth_date=date(1979, 5, 6),
            sex="male",
            at=WEDNESDAY - timedelta(days=9),
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
            weight_kg="80",
            height_cm="180",
            vitals=VITALS,
            pregnant=False,
            consent_given=True,
            at=WEDNESDAY - timedelta(days=8),
            acting_user=staff["rn"],
        )
        intake.do_decide_eligibility(
            record, decision="eligible", note="", at=WEDNESDAY - timedelta(days=7), acting_user=staff["doc"]
        )
        course = courses.do_plan_course(
            patient,
            protocol="iv_racemic_depression",
            start_date=WEDNESDAY.date(),
            start_time=time(9, 0),
            baseline_score=20,
            at=WEDNESDAY - timedelta(days=6),
            acting_user=staff["doc"],
        )
        first, second = list(course.visits.order_by("starts_at"))[:2]
        for visit in (first, second):
            order = orders.do_sign_order(
                visit,
                dose_mg_per_kg=0.5,
                duration_min=40,
                concentration_mg_per_ml=1,
                at=WEDNESDAY - timedelta(days=1),
                acting_user=staff["doc"],
            )
            orders.do_verify_order(order, at=WEDNESDAY - timedelta(hours=20), acting_user=staff["crna"])
        clock.move_to(first.starts_at)
        session = sessions.do_open_session(first, at=first.starts_at, acting_user=staff["rn"])
        complete_checklist(
            session,
            items={n: True for n, _ in chairside.CHECKLIST},
            vitals=VITALS,
            at=first.starts_at,
            acting_user=staff["rn"],
        )
        sessions.do_record_pump_event(
            session, "start", rate_ml_per_h=None, at=first.starts_at + timedelta(minutes=2), acting_user=staff["crna"]
        )
        sessions.do_record_pump_event(
            session, "stop", rate_ml_per_h=None, at=first.starts_at + timedelta(minutes=42), acting_user=staff["crna"]
        )
        clock.move_to(first.starts_at + timedelta(minutes=81))  # 39 minutes after #1 stopped
        chart = f"/clinic/patients/{patient.pk}/"
        # the RN tries to open infusion #2, booked for Friday
        _as(page, "rn", chart)
        page.locator(f"form[action='/clinic/visits/{second.pk}/session/'] button").click()
        message = page.locator(".messages").inner_text()
        assert "not today" in message and "prescriber must move it" in message
        # the prescriber tries to give it today: refused while #1 is open, then for the interval
        _as(page, "doc", chart)
        page.get_by_role("link", name="Give today…").click()
        page.get_by_label("Reason").fill("Patient travels on Friday; asked to come today")
        page.get_by_role("button", name="Move to today").click()
        assert "Another session of this patient is open" in page.locator(".alert-error").inner_text()
        sessions.do_close_session(
            session,
            reason="Escort arrived; observation done at the chair",
            at=first.starts_at + timedelta(minutes=82),
            acting_user=staff["rn"],
        )
        page.get_by_role("button", name="Move to today").click()
        message = page.locator(".alert-error").inner_text()
        assert "The last dose was given" in message and "next may start from" in message
        assert "stays as booked" in message
        screenshot(page, "dose-interval-refused")
        assert not InfusionSession.objects.filter(visit=second).exists()
        second.refresh_from_db()
        assert second.starts_at.date() > first.starts_at.date()  # still on its booked day
