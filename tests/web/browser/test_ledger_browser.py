"""The controlled-substance ledger in chromium: the RN draws the dose from a lot, the CRNA
runs and stops the pump, the RN wastes the residual with the CRNA as witness (typing their
own password), and only then can the patient be discharged; the lot's balance follows."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

import pytest
import time_machine

from ketamine_clinic.domain import chairside
from ketamine_clinic.services import clinic, courses, intake, ledger, measures, orders, schedule, sessions
from ketamine_clinic.services.accounts import do_create_user
from ketamine_clinic.services.patients import do_create_patient
from ketamine_clinic.storage.models import LedgerEntry, StockLot
from tests.conftest import complete_checklist
from tests.web.browser.conftest import open_as, screenshot

pytestmark = pytest.mark.browser

PASSWORD = "ledger-password-1"
START = datetime(2027, 3, 2, 8, 0, tzinfo=UTC)  # a Tuesday
VITALS = {"systolic_mmhg": 120, "diastolic_mmhg": 78, "heart_rate_bpm": 72, "spo2_percent": 98, "respiratory_rate": 14}


def _discharge(page) -> None:  # type: ignore[no-untyped-def]
    """Score every discharge item and tick the attestations, then submit."""
    form = page.locator("form.discharge")
    for code in ("aldrete", "padss"):
        for index in range(5):
            form.locator(f"input[name={code}_{index}][value='2']").check()
    form.get_by_label("Dissociation resolved").check()
    form.get_by_label("Escort present to take the patient home").check()
    form.locator("input[name=aftercare_given]").check()
    form.get_by_role("button", name="Check and discharge").click()


def _clinic():  # type: ignore[no-untyped-def]
    """Staff, a lot in the safe, and a patient whose session is ready to start (via services)."""
    users = {
        name: do_create_user(name, role, PASSWORD, first_name=name.title(), last_name="Tester", acting_user=None)
        for name, role in (("doc", "prescriber"), ("crna", "crna"), ("rn", "rn"))
    }
    schedule.do_create_chair("Chair 1", acting_user=None)
    clinic.do_update_clinic_settings(clinic_name="Ledger Clinic", idle_timeout_minutes=240, acting_user=None)
    safe = ledger.do_add_location("Safe", acting_user=users["doc"])
    lot = ledger.do_receive_stock(
        product_kind="ketamine_vial", product_name="Ketamine HCl 50 mg/mL", ndc="0409-2051-05", lot_number="BR-1",
        expiry=date(2028, 1, 31), quantity=2, supplier="Cardinal", invoice_ref="INV-7", location=safe,
        concentration_mg_per_ml=50, volume_ml=10, at=START - timedelta(days=7), acting_user=users["doc"],
    )  # fmt: skip
    patient = do_create_patient(
        mrn="B-1", given_name="Robin", family_name="Ledger", birth_date=date(1985, 4, 12), sex="female",
        at=START - timedelta(days=10), acting_user=None,
    )  # fmt: skip
    row = intake.do_record_intake(
        patient, diagnoses=["trd"], failed_trials=[{"adequate": True}, {"adequate": True}], contraindications={},
        weight_kg="70.0", vitals=VITALS, pregnant=False, consent_given=True, at=START - timedelta(days=9),
        height_cm="170",
        acting_user=users["rn"],
    )  # fmt: skip
    doc = users["doc"]
    intake.do_decide_eligibility(row, decision="eligible", note="", at=START - timedelta(days=8), acting_user=doc)
    measures.do_record_assessment(patient, "phq9", [2] * 8 + [0], at=START - timedelta(days=8), acting_user=users["rn"])
    course = courses.do_plan_course(
        patient, protocol="iv_racemic_depression", start_date=START.date(), start_time=time(9, 0),
        baseline_score=16, at=START - timedelta(days=7), acting_user=users["doc"],
    )  # fmt: skip
    visit = course.visits.order_by("starts_at").first()
    order = orders.do_sign_order(
        visit, dose_mg_per_kg=0.5, duration_min=40, concentration_mg_per_ml=1, at=START - timedelta(days=1),
        acting_user=users["doc"],
    )  # fmt: skip
    orders.do_verify_order(order, at=START - timedelta(hours=20), acting_user=users["crna"])
    session = sessions.do_open_session(visit, at=visit.starts_at, acting_user=users["rn"])
    complete_checklist(
        session, items={n: True for n, _ in chairside.CHECKLIST}, vitals=VITALS,
        at=visit.starts_at + timedelta(minutes=2), acting_user=users["rn"],
    )  # fmt: skip
    return lot, session


def _as(page, username: str, path: str) -> None:  # type: ignore[no-untyped-def]
    open_as(page, username, PASSWORD, path)


def test_a_dose_is_drawn_from_a_lot_and_the_residual_wasted_with_a_witness(page) -> None:  # type: ignore[no-untyped-def]
    with time_machine.travel(START, tick=True) as clock:
        lot, session = _clinic()
        url = f"/clinic/sessions/{session.pk}/"
        t0 = session.visit.starts_at
        clock.move_to(t0 + timedelta(minutes=4))
        # the RN draws 40 mg (the order is 35 mg) from the lot in the safe
        _as(page, "rn", url)
        card = page.locator("#ledger")
        assert "draw from a lot before dosing" in card.inner_text()
        card.get_by_label("Lot").first.select_option(label="BR-1 · exp 2028-01-31 · 1000.0 mg left")
        card.get_by_label("Amount drawn (mg)").fill("40")
        card.get_by_role("button", name="Record draw").click()
        page.wait_for_selector("text=Drew 40.0 mg from lot BR-1.")
        # the CRNA runs the pump for the ordered 40 minutes
        clock.move_to(t0 + timedelta(minutes=5))
        _as(page, "crna", url)
        page.get_by_role("button", name="Start infusion").click()
        page.wait_for_selector("button:has-text('Pause')")
        clock.move_to(t0 + timedelta(minutes=45))
        _as(page, "crna", url)
        page.get_by_role("button", name="Stop").click()
        page.wait_for_selector("text=Administered")
        assert "5.0 mg to account for" in page.locator("#ledger").inner_text()
        # discharge is refused while 5 mg is unaccounted for
        clock.move_to(t0 + timedelta(minutes=110))
        _as(page, "rn", url)
        vitals = page.locator("form[action$='/vitals/']")
        for label, value in (("Systolic (mmHg)", "122"), ("Diastolic (mmHg)", "78"), ("Heart rate (/min)", "72")):
            vitals.get_by_label(label).fill(value)
        vitals.get_by_label("SpO₂ (%)").fill("98")
        vitals.get_by_label("Resp. rate (/min)").fill("14")
        vitals.get_by_role("button", name="Record vitals").click()
        page.wait_for_selector("text=122/78")
        _discharge(page)
        assert "5.0 mg drawn is neither given nor wasted" in page.locator("main").inner_text()
        # the RN wastes the residual; the CRNA witnesses and types their own password
        waste = page.locator("form[action$='/ledger/waste/']")
        waste.get_by_label("Amount wasted (mg)").fill("5")
        waste.locator("select[name=witness]").select_option(label="Crna Tester")
        waste.get_by_label("Witness's password").fill("wrong-password")
        waste.get_by_role("button", name="Record witnessed waste").click()
        assert "password is not correct" in page.locator(".messages").inner_text()
        waste = page.locator("form[action$='/ledger/waste/']")
        waste.get_by_label("Amount wasted (mg)").fill("5")
        waste.locator("select[name=witness]").select_option(label="Crna Tester")
        waste.get_by_label("Witness's password").fill(PASSWORD)
        waste.get_by_role("button", name="Record witnessed waste").click()
        page.wait_for_selector("text=tied to the ledger")
        screenshot(page, "ledger-session-tied")
        _discharge(page)
        assert "Discharged at" in page.locator("main").inner_text(), page.locator(".messages").inner_text()
        # the lot shows the draw and the witnessed waste; the balance is 1000 - 40 mg
        page.goto(f"/clinic/ledger/lots/{lot.pk}/")
        text = page.locator("main").inner_text()
        assert "Robin Ledger" in text and "witness Crna Tester" in text
        screenshot(page, "ledger-lot")
        assert StockLot.objects.get(pk=lot.pk).balance_mg == Decimal("960.0")
        assert LedgerEntry.objects.get(kind="waste").witness.username == "crna"
