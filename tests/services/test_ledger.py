"""The controlled-substance ledger through its services: receipt, draw, witnessed waste,
the session tie at discharge, counts and discrepancies, corrections, roles, reconciliation."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.db import IntegrityError, transaction

from ketamine_clinic.domain import chairside
from ketamine_clinic.services import clinic, ledger, ledger_reports, sessions
from ketamine_clinic.services.accounts import do_create_user
from ketamine_clinic.services.errors import Conflict, InvalidInput, NotAllowed, NotFound
from ketamine_clinic.storage.models import AuditEvent, EventType, LedgerEntry, StockDiscrepancy, StockLot
from tests.conftest import MONDAY, PASSWORD, VITALS, complete_checklist
from tests.support.rems import rems_on_site, rems_ready

D = Decimal


def receive(prescriber, *, lot_number="K-100", expiry=date(2027, 6, 30), quantity=4, kind="ketamine_vial", **kw):  # type: ignore[no-untyped-def]
    location = ledger.do_add_location("Safe A", acting_user=prescriber)
    values = {
        "product_kind": kind,
        "product_name": "Ketamine HCl 50 mg/mL" if kind == "ketamine_vial" else "Spravato 28 mg",
        "ndc": "0409-2051-05" if kind == "ketamine_vial" else "50458-028-02",
        "concentration_mg_per_ml": 50,
        "volume_ml": 10,
        "quantity": quantity,
        "lot_number": lot_number,
        "expiry": expiry,
        "supplier": "McKesson",
        "invoice_ref": "INV-1",
        "location": location,
        "at": MONDAY - timedelta(days=3),
        "acting_user": prescriber,
    }
    return ledger.do_receive_stock(**{**values, **kw})


@pytest.fixture
def lot(prescriber):  # type: ignore[no-untyped-def]
    return receive(prescriber)


@pytest.fixture
def stopped_session(running_session, crna):  # type: ignore[no-untyped-def]
    sessions.do_record_pump_event(
        running_session,
        "stop",
        rate_ml_per_h=None,
        at=running_session.started_at + timedelta(minutes=40),
        acting_user=crna,
    )
    running_session.refresh_from_db()
    return running_session


def _balance(lot) -> Decimal:  # type: ignore[no-untyped-def]
    return StockLot.objects.get(pk=lot.pk).balance_mg


def test_a_receipt_opens_a_lot_with_its_balance_in_mg_and_units(lot, prescriber) -> None:
    assert (lot.unit_mg, lot.received_mg, lot.balance_mg) == (D("500.0"), D("2000.0"), D("2000.0"))
    entry = LedgerEntry.objects.get(lot=lot)
    assert (entry.kind, entry.stock_delta_mg, entry.balance_after_mg) == ("receipt", D("2000.0"), D("2000.0"))
    event = AuditEvent.objects.get(event_type=EventType.STOCK_RECEIVED)
    assert event.actor == prescriber and event.new_values["quantity"] == 4
    assert ledger_reports.lot_rows()[0].units == D("4.00")


def test_only_a_prescriber_receives_and_a_lot_is_received_once(lot, prescriber, nurse) -> None:
    with pytest.raises(NotAllowed):
        receive(nurse, lot_number="K-200")
    with pytest.raises(Conflict, match="already received"):
        receive(prescriber)


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"ndc": "12-34"}, "ndc"),
        ({"supplier": ""}, "supplier"),
        ({"invoice_ref": " "}, "invoice_ref"),
        ({"quantity": 0}, "quantity"),
        ({"expiry": date(2026, 10, 1)}, "expiry"),
    ],
)
def test_a_bad_receipt_names_the_field_and_saves_nothing(prescriber, change, field) -> None:
    with pytest.raises(InvalidInput) as error:
        receive(prescriber, **change)
    assert error.value.field == field
    assert not StockLot.objects.exists()


def test_a_draw_takes_from_the_lot_for_the_patient_and_is_audited(lot, running_session, nurse, patient) -> None:
    entry = ledger.do_draw_stock(running_session, lot, mg="40", at=MONDAY, acting_user=nurse)
    assert (entry.kind, entry.mg, entry.patient, entry.balance_after_mg) == ("draw", D("40.0"), patient, D("1960.0"))
    assert _balance(lot) == D("1960.0")
    assert AuditEvent.objects.filter(event_type=EventType.STOCK_DRAWN, patient=patient).exists()


def test_no_draw_exceeds_the_balance_and_nothing_is_saved(running_session, prescriber, nurse) -> None:
    small = receive(prescriber, quantity=1, lot_number="K-1")
    with pytest.raises(InvalidInput, match="holds 500.0 mg"):
        ledger.do_draw_stock(running_session, small, mg="500.1", at=MONDAY, acting_user=nurse)
    assert _balance(small) == D("500.0") and LedgerEntry.objects.filter(kind="draw").count() == 0


def test_an_expired_lot_cannot_be_drawn(running_session, prescriber, nurse) -> None:
    lot = receive(prescriber, expiry=MONDAY.date())
    ledger.do_draw_stock(running_session, lot, mg=10, at=MONDAY, acting_user=nurse)
    with pytest.raises(Conflict, match="expired on 2026-11-02"):
        ledger.do_draw_stock(running_session, lot, mg=10, at=MONDAY + timedelta(days=1), acting_user=nurse)


def test_an_iv_session_draws_from_vials_not_devices(running_session, prescriber, nurse) -> None:
    devices = receive(prescriber, kind="esketamine_device", quantity=6, lot_number="E-1")
    assert devices.unit_mg == D("28") and devices.balance_mg == D("168")
    with pytest.raises(Conflict, match="Ketamine HCl injection"):
        ledger.do_draw_stock(running_session, devices, mg=28, at=MONDAY, acting_user=nurse)


def test_front_desk_cannot_draw_and_a_closed_session_cannot_be_drawn_for(lot, running_session, front_desk) -> None:
    with pytest.raises(NotAllowed):
        ledger.do_draw_stock(running_session, lot, mg=10, at=MONDAY, acting_user=front_desk)


def test_waste_needs_a_second_clinician_with_their_password(lot, stopped_session, nurse, crna, front_desk) -> None:
    ledger.do_draw_stock(stopped_session, lot, mg=40, at=MONDAY, acting_user=nurse)
    at = MONDAY + timedelta(hours=2)
    args = {"mg": "5", "at": at, "acting_user": nurse}
    with pytest.raises(InvalidInput, match="second clinician") as error:
        ledger.do_waste_stock(stopped_session, lot, witness=nurse, witness_password=PASSWORD, **args)
    assert error.value.field == "witness"
    with pytest.raises(InvalidInput, match="licensed clinician"):
        ledger.do_waste_stock(stopped_session, lot, witness=front_desk, witness_password=PASSWORD, **args)
    with pytest.raises(InvalidInput, match="password is not correct"):
        ledger.do_waste_stock(stopped_session, lot, witness=crna, witness_password="guess", **args)
    with pytest.raises(InvalidInput, match="witness is required"):
        ledger.do_waste_stock(stopped_session, lot, witness=None, witness_password="", **args)
    with pytest.raises(InvalidInput, match="only 5.0 mg"):
        ledger.do_waste_stock(stopped_session, lot, witness=crna, witness_password=PASSWORD, **{**args, "mg": "5.1"})
    waste = ledger.do_waste_stock(stopped_session, lot, witness=crna, witness_password=PASSWORD, **args)
    assert (waste.kind, waste.witness, waste.stock_delta_mg, waste.balance_after_mg) == (
        "waste",
        crna,
        D("0"),
        D("1960.0"),
    )
    assert AuditEvent.objects.get(event_type=EventType.STOCK_WASTED).new_values["witness"] == crna.username


def test_the_database_refuses_waste_without_a_distinct_witness(lot, nurse) -> None:
    for witness in (None, nurse):
        with pytest.raises(IntegrityError), transaction.atomic():
            LedgerEntry.objects.create(
                lot=lot, kind="waste", mg=1, stock_delta_mg=0, balance_after_mg=lot.balance_mg,
                at=MONDAY, recorded_by=nurse, recorded_at=MONDAY, witness=witness,
            )  # fmt: skip


def test_a_session_with_ledger_stock_closes_only_when_drawn_equals_given_plus_wasted(
    lot, stopped_session, nurse, crna
) -> None:
    at = stopped_session.stopped_at + timedelta(minutes=70)
    sessions.do_record_vitals(stopped_session, VITALS, at=at - timedelta(minutes=5), acting_user=nurse)
    with pytest.raises(Conflict, match="No controlled substance was drawn"):
        sessions.do_discharge(
            stopped_session,
            padss=[2, 2, 2, 2, 2],
            dissociation_resolved=True,
            aftercare_given=True,
            aldrete=[2] * 5,
            escort_present=True,
            at=at,
            acting_user=nurse,
        )
    ledger.do_draw_stock(stopped_session, lot, mg=40, at=MONDAY, acting_user=nurse)
    with pytest.raises(Conflict, match="5.0 mg drawn is neither given nor wasted"):
        sessions.do_discharge(
            stopped_session,
            padss=[2, 2, 2, 2, 2],
            dissociation_resolved=True,
            aftercare_given=True,
            aldrete=[2] * 5,
            escort_present=True,
            at=at,
            acting_user=nurse,
        )
    ledger.do_waste_stock(stopped_session, lot, mg=5, witness=crna, witness_password=PASSWORD, at=at, acting_user=nurse)
    sessions.do_discharge(
        stopped_session,
        padss=[2, 2, 2, 2, 2],
        dissociation_resolved=True,
        aftercare_given=True,
        aldrete=[2] * 5,
        escort_present=True,
        at=at,
        acting_user=nurse,
    )
    stopped_session.refresh_from_db()
    assert stopped_session.status == "discharged"
    assert ledger.session_ledger(stopped_session).tie.tied
    with pytest.raises(Conflict, match="session is closed"):
        ledger.do_draw_stock(stopped_session, lot, mg=1, at=at, acting_user=nurse)
    assert ledger_reports.reconcile().discrepancies == 0


def nasal_session(prescriber, nurse, patient, recorded_intake):  # type: ignore[no-untyped-def]
    """An esketamine session (56 mg, two devices) with its checklist done."""
    from ketamine_clinic.services import courses, intake, orders

    intake.do_decide_eligibility(recorded_intake, decision="eligible", note="", at=MONDAY, acting_user=prescriber)
    course = courses.do_plan_course(
        patient, protocol="esketamine_trd", start_date=MONDAY.date(), at=MONDAY, acting_user=prescriber
    )
    visit = course.visits.order_by("starts_at").first()
    rems_ready(patient, prescriber, MONDAY)
    order = orders.do_sign_nasal_order(visit, dose_mg=56, at=MONDAY, acting_user=prescriber)
    orders.do_verify_order(order, at=MONDAY, acting_user=nurse)
    session = sessions.do_open_session(visit, at=visit.starts_at, acting_user=nurse)
    rems_on_site(session, prescriber, session.opened_at)
    complete_checklist(
        session,
        items={n: True for n, _ in chairside.CHECKLIST},
        vitals=VITALS,
        at=visit.starts_at,
        acting_user=nurse,
    )
    return session


def test_esketamine_draws_whole_devices_and_ties_to_the_devices_given(
    prescriber, crna, nurse, patient, recorded_intake, chairs
) -> None:
    devices = receive(prescriber, kind="esketamine_device", quantity=6, lot_number="E-1")
    session = nasal_session(prescriber, nurse, patient, recorded_intake)
    t = session.opened_at
    with pytest.raises(InvalidInput, match="whole devices"):
        ledger.do_draw_stock(session, devices, mg=30, at=t, acting_user=crna)
    ledger.do_draw_stock(session, devices, mg=56, at=t, acting_user=crna)
    for minutes in (1, 6):
        sessions.do_give_nasal_device(session, at=t + timedelta(minutes=minutes), acting_user=crna)
    sessions.do_record_vitals(session, VITALS, at=t + timedelta(minutes=45), acting_user=nurse)
    sessions.do_record_vitals(session, VITALS, at=t + timedelta(minutes=125), acting_user=nurse)
    sessions.do_discharge(
        session,
        padss=[2, 2, 2, 2, 2],
        dissociation_resolved=True,
        aftercare_given=True,
        aldrete=[2] * 5,
        escort_present=True,
        at=t + timedelta(minutes=130),
        acting_user=nurse,
    )
    assert _balance(devices) == D("112.0")
    assert ledger_reports.lot_rows()[0].units == D("4.00")


def test_a_matching_count_raises_nothing_and_a_short_count_raises_a_discrepancy(lot, nurse, prescriber) -> None:
    ledger.do_record_counts({lot.pk: "2000"}, count_kind="opening", at=MONDAY, acting_user=nurse)
    assert not StockDiscrepancy.objects.exists()
    ledger.do_record_counts({lot.pk: "1990"}, count_kind="closing", at=MONDAY, acting_user=nurse)
    found = StockDiscrepancy.objects.get()
    assert (found.status, found.expected_mg, found.counted_mg, found.difference_mg) == (
        "open",
        D("2000.0"),
        D("1990.0"),
        D("-10.0"),
    )
    assert _balance(lot) == D("2000.0"), "a count never changes the balance by itself"
    assert AuditEvent.objects.filter(event_type=EventType.STOCK_DISCREPANCY_RAISED).count() == 1
    report = ledger_reports.reconcile()
    assert report.discrepancies == 1 and "not resolved" in report.lots[0].problems[0]


def test_counts_are_of_the_clinics_kinds_and_never_negative(lot, nurse, front_desk) -> None:
    with pytest.raises(InvalidInput, match="count must be one of"):
        ledger.do_record_counts({lot.pk: "2000"}, count_kind="lunch", at=MONDAY, acting_user=nurse)
    with pytest.raises(InvalidInput, match="cannot be negative"):
        ledger.do_record_counts({lot.pk: "-1"}, count_kind="opening", at=MONDAY, acting_user=nurse)
    with pytest.raises(NotAllowed):
        ledger.do_record_counts({lot.pk: "2000"}, count_kind="opening", at=MONDAY, acting_user=front_desk)


def test_a_prescriber_resolves_a_loss_with_a_reason_and_the_balance_follows_the_count(
    lot, nurse, crna, prescriber
) -> None:
    ledger.do_record_counts({lot.pk: "1990"}, count_kind="closing", at=MONDAY, acting_user=nurse)
    found = StockDiscrepancy.objects.get()
    with pytest.raises(NotAllowed):
        ledger.do_resolve_discrepancy(
            found, resolution="loss", reason="vial broke in the safe", at=MONDAY, acting_user=crna
        )
    with pytest.raises(InvalidInput, match="reason must be 10 to 500"):
        ledger.do_resolve_discrepancy(found, resolution="loss", reason="broke", at=MONDAY, acting_user=prescriber)
    resolved = ledger.do_resolve_discrepancy(
        found, resolution="loss", reason="Vial dropped and broke; 0.2 mL lost", at=MONDAY, acting_user=prescriber
    )
    assert resolved.status == "resolved" and resolved.adjustment.stock_delta_mg == D("-10.0")
    assert _balance(lot) == D("1990.0")
    with pytest.raises(Conflict, match="already resolved"):
        ledger.do_resolve_discrepancy(
            found, resolution="loss", reason="again and again", at=MONDAY, acting_user=prescriber
        )
    assert ledger_reports.reconcile().discrepancies == 0
    report = ledger_reports.access_loss_report(prescriber, resolved.pk)
    values = {key: value for key, _, value in report.fields}
    assert values["date_of_loss"] == "2026-11-02" and values["type_of_loss"].startswith("Loss")
    assert report.substances[0]["quantity_mg"] == "10.0" and report.substances[0]["ndc"] == "0409-2051-05"


def test_a_recount_that_matches_leaves_the_balance_and_an_overage_is_no_loss(lot, nurse, prescriber) -> None:
    ledger.do_record_counts({lot.pk: "2010"}, count_kind="closing", at=MONDAY, acting_user=nurse)
    found = StockDiscrepancy.objects.get()
    with pytest.raises(InvalidInput, match="not a loss"):
        ledger.do_resolve_discrepancy(
            found, resolution="theft", reason="count above record", at=MONDAY, acting_user=prescriber
        )
    ledger.do_resolve_discrepancy(
        found, resolution="count_error", reason="Recounted with the CRNA: 2000 mg", at=MONDAY, acting_user=prescriber
    )
    assert _balance(lot) == D("2000.0")
    with pytest.raises(NotFound):
        ledger_reports.access_loss_report(prescriber, found.pk)


def test_a_draw_on_the_wrong_lot_is_corrected_by_linked_entries_and_the_original_stays(
    lot, running_session, prescriber, nurse
) -> None:
    other = receive(prescriber, lot_number="K-2")
    draw = ledger.do_draw_stock(running_session, lot, mg=40, at=MONDAY, acting_user=nurse)
    fixed = ledger.do_correct_entry(
        draw, reason="drawn from K-2, not K-100", replacement_lot=other, at=MONDAY, acting_user=nurse
    )
    assert fixed.corrects == draw and fixed.stock_delta_mg == D("40.0")
    assert (_balance(lot), _balance(other)) == (D("2000.0"), D("1960.0"))
    assert LedgerEntry.objects.filter(pk=draw.pk).exists()
    summary = ledger.session_ledger(running_session)
    assert summary.drawn_by_lot() == {lot.pk: D("0.0"), other.pk: D("40.0")}
    with pytest.raises(Conflict, match="already corrected"):
        ledger.do_correct_entry(draw, reason="second try", at=MONDAY, acting_user=nurse)
    assert AuditEvent.objects.filter(event_type=EventType.LEDGER_ENTRY_CORRECTED).count() == 1


def test_ledger_entries_are_never_edited_or_deleted(lot) -> None:
    entry = LedgerEntry.objects.get(lot=lot)
    entry.mg = D("1")
    with pytest.raises(RuntimeError, match="append-only"):
        entry.save()
    with pytest.raises(RuntimeError, match="append-only"):
        entry.delete()


def test_the_database_refuses_a_negative_balance_whatever_the_path(lot) -> None:
    with pytest.raises(IntegrityError), transaction.atomic():
        StockLot.objects.filter(pk=lot.pk).update(balance_mg=D("-0.1"))


def test_a_receipt_cannot_be_reversed_below_zero(lot, running_session, prescriber, nurse) -> None:
    ledger.do_draw_stock(running_session, lot, mg=40, at=MONDAY, acting_user=nurse)
    with pytest.raises(Conflict, match="below zero"):
        ledger.do_correct_entry(
            LedgerEntry.objects.get(kind="receipt"), reason="wrong lot", at=MONDAY, acting_user=prescriber
        )
    assert _balance(lot) == D("1960.0")


def test_the_clinic_narrows_who_witnesses_within_scope(lot, stopped_session, admin, nurse, crna, prescriber) -> None:
    roles = {"witness_waste": ["crna"]}
    args = {"count_times": ["opening", "closing"], "registrant_name": "", "registrant_address": "", "dea_number": ""}
    with pytest.raises(NotAllowed):
        ledger.do_update_ledger_settings(roles=roles, acting_user=nurse, **args)
    with pytest.raises(InvalidInput, match="front_desk may not"):
        ledger.do_update_ledger_settings(roles={"witness_waste": ["front_desk"]}, acting_user=admin, **args)
    ledger.do_update_ledger_settings(roles=roles, acting_user=admin, **args)
    ledger.do_draw_stock(stopped_session, lot, mg=40, at=MONDAY, acting_user=nurse)
    with pytest.raises(InvalidInput, match="licensed clinician the clinic allows"):
        ledger.do_waste_stock(
            stopped_session, lot, mg=5, witness=prescriber, witness_password=PASSWORD, at=MONDAY, acting_user=nurse
        )
    ledger.do_waste_stock(
        stopped_session, lot, mg=5, witness=crna, witness_password=PASSWORD, at=MONDAY, acting_user=nurse
    )
    other_rn = do_create_user("nurse2", "rn", PASSWORD, acting_user=None)
    ledger.do_update_ledger_settings(roles={"draw_stock": ["crna"]}, acting_user=admin, **args)
    with pytest.raises(NotAllowed, match="ledger settings"):
        ledger.do_draw_stock(stopped_session, lot, mg=1, at=MONDAY, acting_user=other_rn)


def test_reconcile_finds_a_balance_that_does_not_match_its_entries(lot) -> None:
    assert ledger_reports.reconcile().discrepancies == 0
    StockLot.objects.filter(pk=lot.pk).update(balance_mg=D("1500"))  # tampering outside the services
    problems = ledger_reports.reconcile().lots[0].problems
    assert any("entries sum to 2000.0 mg" in p for p in problems)


def test_the_dispensing_log_lists_draws_and_waste_by_patient_and_lot_and_is_audited(
    lot, stopped_session, nurse, crna, prescriber, patient
) -> None:
    ledger.do_draw_stock(stopped_session, lot, mg=40, at=MONDAY, acting_user=nurse)
    ledger.do_waste_stock(
        stopped_session, lot, mg=5, witness=crna, witness_password=PASSWORD, at=MONDAY, acting_user=nurse
    )
    rows = ledger_reports.access_dispensing_log(prescriber, patient_id=patient.pk, lot_id=lot.pk)
    assert [(r.entry.kind, r.signed_mg) for r in rows] == [("draw", D("40.0")), ("waste", D("5.0"))]
    assert ledger_reports.access_dispensing_log(prescriber, since=MONDAY.date() + timedelta(days=1)) == []
    assert AuditEvent.objects.filter(event_type=EventType.LEDGER_REPORT_VIEWED, actor=prescriber).count() == 2


def test_admins_and_front_desk_cannot_read_the_ledger_reports(lot, admin, front_desk) -> None:
    for user in (admin, front_desk):
        with pytest.raises(NotFound):
            ledger_reports.access_dispensing_log(user)
        with pytest.raises(NotFound):
            ledger_reports.access_inventory(user)


def test_the_biennial_inventory_lists_each_lots_form_and_count(lot, prescriber) -> None:
    empty = ledger_reports.access_inventory(prescriber)
    assert empty.taken_on is None and empty.next_due == date(2028, 10, 30)
    ledger.do_record_counts({lot.pk: "2000"}, count_kind="biennial", at=MONDAY, acting_user=prescriber)
    taken = ledger_reports.access_inventory(prescriber)
    assert taken.taken_on == MONDAY.date() and taken.next_due == date(2028, 11, 2)
    assert taken.timing == "opening of business"
    line = taken.lines[0]
    assert (line.form, line.counted_mg, line.units) == ("50.0 mg/mL, 10.0 mL vial (500.0 mg)", D("2000.0"), D("4.00"))


def test_clinic_settings_still_apply_with_the_ledger(admin) -> None:
    clinic.do_update_clinic_settings(clinic_name="Ledger Clinic", idle_timeout_minutes=30, acting_user=admin)
    assert ledger.count_kinds() == {
        "opening": "opening count",
        "closing": "closing count",
        "initial": "initial inventory",
        "biennial": "biennial inventory",
    }


def test_the_initial_inventory_is_the_first_one_not_a_later_receipts_count(lot, prescriber) -> None:
    ledger.do_record_counts({lot.pk: "2000"}, count_kind="initial", at=MONDAY, acting_user=prescriber)
    later = receive(prescriber, lot_number="K-9")
    ledger.do_record_counts(
        {later.pk: "2000"}, count_kind="initial", at=MONDAY + timedelta(days=40), acting_user=prescriber
    )
    report = ledger_reports.access_inventory(prescriber, kind="initial")
    assert report.taken_on == MONDAY.date() and [x.lot.lot_number for x in report.lines] == ["K-100"]


def test_a_witness_password_is_locked_out_after_the_login_failure_limit(
    lot, stopped_session, nurse, crna, settings
) -> None:
    settings.AXES_FAILURE_LIMIT = 3
    ledger.do_draw_stock(stopped_session, lot, mg=40, at=MONDAY, acting_user=nurse)
    args = {"mg": "5", "witness": crna, "at": MONDAY, "acting_user": nurse}
    for _ in range(3):
        with pytest.raises(InvalidInput, match="password is not correct"):
            ledger.do_waste_stock(stopped_session, lot, witness_password="guess", **args)
    assert AuditEvent.objects.filter(event_type=EventType.WITNESS_PASSWORD_FAILED, actor=nurse).count() == 3
    with pytest.raises(NotAllowed, match="Too many wrong passwords"):
        ledger.do_waste_stock(stopped_session, lot, witness_password=PASSWORD, **args)
    assert not LedgerEntry.objects.filter(kind="waste").exists()


def test_a_closed_sessions_draw_moves_to_another_lot_but_is_never_simply_reversed(
    lot, stopped_session, prescriber, nurse, crna
) -> None:
    other = receive(prescriber, lot_number="K-3")
    draw = ledger.do_draw_stock(stopped_session, lot, mg=35, at=MONDAY, acting_user=nurse)
    at = stopped_session.stopped_at + timedelta(minutes=70)
    sessions.do_record_vitals(stopped_session, VITALS, at=at, acting_user=nurse)
    sessions.do_discharge(
        stopped_session,
        padss=[2, 2, 2, 2, 2],
        dissociation_resolved=True,
        aftercare_given=True,
        aldrete=[2] * 5,
        escort_present=True,
        at=at,
        acting_user=nurse,
    )
    with pytest.raises(Conflict, match="session is closed and tied"):
        ledger.do_correct_entry(draw, reason="never drawn", at=at, acting_user=nurse)
    ledger.do_correct_entry(draw, reason="came from K-3", replacement_lot=other, at=at, acting_user=nurse)
    stopped_session.refresh_from_db()
    assert ledger.session_ledger(stopped_session).tie.tied
    assert ledger_reports.reconcile().discrepancies == 0


def test_only_a_prescriber_adds_a_storage_location(prescriber, nurse) -> None:
    with pytest.raises(NotAllowed):
        ledger.do_add_location("Cabinet 2", acting_user=nurse)
    with pytest.raises(InvalidInput, match="name must be 2 to 80"):
        ledger.do_add_location("x", acting_user=prescriber)
    first = ledger.do_add_location("Cabinet 2", acting_user=prescriber)
    assert ledger.do_add_location("Cabinet 2", acting_user=prescriber) == first
    assert AuditEvent.objects.filter(event_type=EventType.STOCK_LOCATION_ADDED).count() == 1


def test_every_ledger_write_is_audited_and_the_chain_still_verifies(
    lot, stopped_session, prescriber, nurse, crna
) -> None:
    from ketamine_clinic.services.audit import verify_chain

    draw = ledger.do_draw_stock(stopped_session, lot, mg=45, at=MONDAY, acting_user=nurse)
    ledger.do_correct_entry(draw, reason="typed 45 for 40", at=MONDAY, acting_user=nurse)
    ledger.do_draw_stock(stopped_session, lot, mg=40, at=MONDAY, acting_user=nurse)
    ledger.do_waste_stock(
        stopped_session, lot, mg=5, witness=crna, witness_password=PASSWORD, at=MONDAY, acting_user=nurse
    )
    ledger.do_record_counts({lot.pk: "1900"}, count_kind="closing", at=MONDAY, acting_user=crna)
    ledger.do_resolve_discrepancy(
        StockDiscrepancy.objects.get(), resolution="record_error", reason="A receipt of 60 mg was never made",
        at=MONDAY, acting_user=prescriber,
    )  # fmt: skip
    seen = set(AuditEvent.objects.values_list("event_type", flat=True))
    for kind in (
        EventType.STOCK_RECEIVED, EventType.STOCK_DRAWN, EventType.LEDGER_ENTRY_CORRECTED, EventType.STOCK_WASTED,
        EventType.STOCK_COUNTED, EventType.STOCK_DISCREPANCY_RAISED, EventType.STOCK_DISCREPANCY_RESOLVED,
    ):  # fmt: skip
        assert kind in seen, kind.label
    assert ledger.session_ledger(stopped_session).tie.tied
    assert _balance(lot) == D("1900.0") and verify_chain().ok
    assert ledger_reports.reconcile().discrepancies == 0


def test_a_count_within_an_opened_vials_estimate_is_no_discrepancy_and_the_step_is_a_setting(lot, nurse, admin) -> None:
    ledger.do_record_counts({lot.pk: "1997.5"}, count_kind="opening", at=MONDAY, acting_user=nurse)
    assert not StockDiscrepancy.objects.exists()
    ledger.do_record_counts({lot.pk: "1997.4"}, count_kind="closing", at=MONDAY, acting_user=nurse)
    assert StockDiscrepancy.objects.count() == 1
    clinic.do_update_clinic_rules({"count_volume_step_ml": 0.01}, acting_user=None)  # 0.2 mg at 50 mg/mL
    ledger.do_record_counts({lot.pk: "1999.7"}, count_kind="closing", at=MONDAY, acting_user=nurse)
    assert StockDiscrepancy.objects.count() == 2


def test_while_the_dose_runs_only_a_surplus_over_the_ordered_dose_may_be_wasted(
    lot, running_session, nurse, crna
) -> None:
    """Wasting the dose itself while it runs would leave the session unable to tie out
    (given + wasted > drawn): until the pump stops only what was drawn beyond the ordered
    dose may be wasted; after the stop, everything not given."""
    dose = D(str(running_session.order.dose_mg))
    at = running_session.started_at + timedelta(minutes=5)
    ledger.do_draw_stock(running_session, lot, mg=dose + 5, at=at, acting_user=nurse)
    assert ledger.session_ledger(running_session).wastable_mg == D("5.0")
    args = {"witness": crna, "witness_password": PASSWORD, "at": at, "acting_user": nurse}
    with pytest.raises(InvalidInput, match="until the dose has ended"):
        ledger.do_waste_stock(running_session, lot, mg="5.1", **args)
    ledger.do_waste_stock(running_session, lot, mg="5", **args)
    assert ledger.session_ledger(running_session).wastable_mg == 0
    sessions.do_record_pump_event(
        running_session,
        "stop",
        rate_ml_per_h=None,
        at=at + timedelta(minutes=1),
        acting_user=crna,
        reason="patient asked",
    )
    running_session.refresh_from_db()
    left = dose - running_session.administered_mg
    assert left > 0 and ledger.session_ledger(running_session).wastable_mg == left
    ledger.do_waste_stock(running_session, lot, mg=left, **{**args, "at": at + timedelta(minutes=2)})
    assert ledger.session_ledger(running_session).tie.tied


def test_between_nasal_devices_the_devices_still_to_give_may_not_be_wasted(
    prescriber, crna, nurse, patient, recorded_intake, chairs
) -> None:
    """A nasal session's given mg grows with each device while it is still dosing: after
    the first of two devices the second is still owed, so only a surplus device may be
    wasted (wasting the second and then giving it could never tie out)."""
    devices = receive(prescriber, kind="esketamine_device", quantity=6, lot_number="E-2")
    session = nasal_session(prescriber, nurse, patient, recorded_intake)
    t = session.opened_at
    ledger.do_draw_stock(session, devices, mg=84, at=t, acting_user=crna)  # one device more than ordered
    sessions.do_give_nasal_device(session, at=t + timedelta(minutes=1), acting_user=crna)
    session.refresh_from_db()
    assert session.status == "running" and ledger.session_ledger(session).wastable_mg == D("28.0")
    args = {"witness": nurse, "witness_password": PASSWORD, "acting_user": crna}
    with pytest.raises(InvalidInput, match="give the last device"):
        ledger.do_waste_stock(session, devices, mg=56, at=t + timedelta(minutes=2), **args)
    ledger.do_waste_stock(session, devices, mg=28, at=t + timedelta(minutes=2), **args)
    sessions.do_give_nasal_device(session, at=t + timedelta(minutes=6), acting_user=crna)
    assert ledger.session_ledger(session).tie.tied


def test_a_process_reuses_the_menu_count_and_in_use_answer_and_sees_its_own_writes(
    transactional_db, prescriber, nurse
) -> None:
    """The chair page and every menu ask these on each view: a server process keeps the
    answer a few seconds, but what it writes itself is seen on the next view."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def asked() -> tuple[bool, int, int]:
        with CaptureQueriesContext(connection) as reads:
            found = (ledger.ledger_in_use("ketamine_vial"), ledger.open_discrepancy_count())
        return (*found, len(reads.captured_queries))

    assert asked() == (False, 0, 2)
    assert asked() == (False, 0, 0)
    lot = receive(prescriber)
    assert asked()[:2] == (True, 0)
    ledger.do_record_counts({lot.pk: "1990"}, count_kind="closing", at=MONDAY, acting_user=nurse)
    assert asked()[:2] == (True, 1)
    assert asked() == (True, 1, 0)


def test_a_check_inside_a_write_never_uses_the_processs_copy(transactional_db, prescriber) -> None:
    """Another server process received the first lot a second ago: pages here may say "not
    in the ledger" for a few seconds, but the tie checked before a discharge (inside its
    transaction) reads the database."""
    from django.db import transaction

    assert ledger.ledger_in_use("ketamine_vial") is False  # this process now holds "no"
    lot = receive(prescriber)
    clinic._CACHE[f"ledger:in_use:{lot.product_kind}"] = (clinic.time.monotonic(), False)  # as another process saw it
    assert ledger.ledger_in_use("ketamine_vial") is False
    with transaction.atomic():
        assert ledger.ledger_in_use("ketamine_vial") is True
