"""The ledger's pure rules: receipts, draws, waste and its witness, the session tie, counts."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from ketamine_clinic.domain import ledger
from ketamine_clinic.domain.ledger import LedgerError
from ketamine_clinic.domain.policy import can

ON = date(2026, 11, 2)
D = Decimal


def test_a_vial_receipt_is_vials_times_volume_times_strength() -> None:
    r = ledger.plan_receipt(
        "ketamine_vial", concentration_mg_per_ml="50", volume_ml="10", quantity=25, expiry=date(2027, 6, 30), on=ON
    )
    assert (r.unit_mg, r.total_mg, r.quantity) == (D("500.0"), D("12500.0"), 25)


def test_a_device_receipt_is_28_mg_per_device_whatever_is_typed() -> None:
    r = ledger.plan_receipt("esketamine_device", concentration_mg_per_ml=9, volume_ml=9, quantity=6, expiry=ON, on=ON)
    assert (r.unit_mg, r.total_mg) == (D("28"), D("168"))


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"quantity": 0}, "quantity"),
        ({"quantity": "ten"}, "quantity"),
        ({"concentration_mg_per_ml": "500"}, "concentration_mg_per_ml"),
        ({"volume_ml": "abc"}, "volume_ml"),
        ({"expiry": date(2026, 11, 1)}, "expiry"),
    ],
)
def test_a_bad_receipt_names_the_field(kwargs, field) -> None:
    base = {"concentration_mg_per_ml": 50, "volume_ml": 10, "quantity": 5, "expiry": date(2027, 1, 1), "on": ON}
    with pytest.raises(LedgerError) as error:
        ledger.plan_receipt("ketamine_vial", **{**base, **kwargs})
    assert error.value.field == field


def test_an_unknown_product_is_refused() -> None:
    with pytest.raises(LedgerError, match="product"):
        ledger.plan_receipt("morphine", concentration_mg_per_ml=1, volume_ml=1, quantity=1, expiry=ON, on=ON)


def _draw(amount: str, balance: str = "100", expiry: date = ON, unit: str = "500", whole: bool = False) -> None:
    ledger.check_draw(
        amount_mg=D(amount), balance_mg=D(balance), expiry=expiry, on=ON, unit_mg=D(unit), whole_units=whole
    )


def test_a_draw_within_the_balance_on_the_expiry_day_is_allowed() -> None:
    _draw("100", expiry=ON)


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: _draw("100.1"), "holds 100 mg"),
        (lambda: _draw("0"), "more than 0"),
        (lambda: _draw("10", expiry=date(2026, 11, 1)), "expired on 2026-11-01"),
        (lambda: _draw("30", unit="28", whole=True), "whole devices"),
    ],
)
def test_a_draw_is_refused_beyond_the_balance_expired_or_in_part_devices(call, message) -> None:
    with pytest.raises(LedgerError, match=message):
        call()


def test_waste_cannot_exceed_what_was_drawn_and_not_given() -> None:
    ledger.check_waste(amount_mg=D("5"), drawn_mg=D("40"), given_mg=D("35"), wasted_mg=D("0"))
    with pytest.raises(LedgerError, match="only 0.0 mg"):
        ledger.check_waste(amount_mg=D("0.1"), drawn_mg=D("40"), given_mg=D("35"), wasted_mg=D("5.0"))
    with pytest.raises(LedgerError, match="more than 0"):
        ledger.check_waste(amount_mg=D("0"), drawn_mg=D("40"), given_mg=None, wasted_mg=D("0"))


@pytest.mark.parametrize(
    ("witness_id", "role", "message"),
    [
        (None, "rn", "witness is required"),
        (1, "rn", "second clinician"),
        (2, "front_desk", "licensed clinician"),
        (2, "", "licensed clinician"),
    ],
)
def test_the_witness_is_a_second_licensed_clinician(witness_id, role, message) -> None:
    with pytest.raises(LedgerError, match=message):
        ledger.check_witness(recorder_id=1, witness_id=witness_id, witness_role=role, allowed_roles=("rn", "crna"))
    ledger.check_witness(recorder_id=1, witness_id=2, witness_role="crna", allowed_roles=("rn", "crna"))


def test_a_session_ties_only_when_drawn_equals_given_plus_wasted() -> None:
    tied = ledger.session_tie(drawn_mg=D("40.0"), given_mg=D("35.0"), wasted_mg=D("5.0"))
    assert tied.tied and tied.message() == "Drawn = given + wasted."
    short = ledger.session_tie(drawn_mg=D("40.0"), given_mg=D("35.0"), wasted_mg=D("0"))
    assert not short.tied and "5.0 mg drawn is neither given nor wasted" in short.message()
    over = ledger.session_tie(drawn_mg=D("30.0"), given_mg=D("35.0"), wasted_mg=D("0"))
    assert not over.tied and "record the missing draw" in over.message()
    nothing = ledger.session_tie(drawn_mg=D("0"), given_mg=None, wasted_mg=D("0"))
    assert not nothing.tied and "No controlled substance was drawn" in nothing.message()


def test_a_count_adds_sealed_units_and_the_opened_volume() -> None:
    got = ledger.counted_mg(unit_mg=D("500"), full_units=3, open_ml="7.3", concentration_mg_per_ml=D("50"))
    assert got == D("1865.0")
    assert ledger.count_difference(expected_mg=D("1865.0"), counted_mg=got) == 0
    with pytest.raises(LedgerError, match="whole"):
        ledger.counted_mg(unit_mg=D("28"), full_units=2, open_ml="1", concentration_mg_per_ml=D("0"))
    with pytest.raises(LedgerError, match="negative"):
        ledger.counted_mg(unit_mg=D("28"), full_units=-1, open_ml="0", concentration_mg_per_ml=D("0"))
    with pytest.raises(LedgerError, match="whole number"):
        ledger.counted_mg(unit_mg=D("28"), full_units="x", open_ml="0", concentration_mg_per_ml=D("0"))
    with pytest.raises(LedgerError, match="opened vials cannot be negative"):
        ledger.counted_mg(unit_mg=D("500"), full_units=1, open_ml="-0.5", concentration_mg_per_ml=D("50"))


def test_units_are_vials_or_devices_to_a_hundredth() -> None:
    assert ledger.units_of(D("465"), D("500")) == D("0.93")
    assert ledger.units_of(D("56"), D("28")) == D("2.00")
    assert ledger.units_of(D("56"), D("0")) == D("0")


def test_the_biennial_inventory_is_due_two_years_after_the_last() -> None:
    assert ledger.biennial_due(date(2025, 3, 1), date(2020, 1, 1)) == date(2027, 3, 1)
    assert ledger.biennial_due(None, date(2024, 2, 29)) == date(2026, 2, 28)
    assert ledger.biennial_due(None, None) is None


def test_mg_rounds_to_a_tenth_and_refuses_non_numbers() -> None:
    assert ledger.mg("35.04") == D("35.0") and ledger.mg(35.05) == D("35.1")
    for bad in ("", "abc", "nan", "inf"):
        with pytest.raises(LedgerError):
            ledger.mg(bad)


def test_clinic_ledger_roles_stay_within_scope_of_practice() -> None:
    assert ledger.check_ledger_roles({}) == ledger.DEFAULT_LEDGER_ROLES
    narrowed = ledger.check_ledger_roles({"witness_waste": ["crna"]})
    assert narrowed["witness_waste"] == ("crna",)
    with pytest.raises(LedgerError, match="front_desk may not witness waste"):
        ledger.check_ledger_roles({"witness_waste": ["front_desk"]})
    with pytest.raises(LedgerError, match="rn may not receive stock"):
        ledger.check_ledger_roles({"receive_stock": ["rn"]})
    with pytest.raises(LedgerError, match="at least one role"):
        ledger.check_ledger_roles({"draw_stock": []})


def test_default_ledger_roles_are_the_policy_matrix() -> None:
    for action, roles in ledger.DEFAULT_LEDGER_ROLES.items():
        assert roles and all(can(r, action) for r in roles)
    assert ledger.DEFAULT_LEDGER_ROLES["witness_waste"] == ("prescriber", "crna", "rn")


def test_form_106_lists_its_fields_once() -> None:
    keys = [k for k, _ in ledger.FORM_106_FIELDS]
    assert len(keys) == len(set(keys)) and "dea_number" in keys and "type_of_loss" in keys


def test_an_opened_vial_is_counted_within_half_a_volume_step_and_devices_exactly() -> None:
    tolerance = ledger.count_tolerance_mg(concentration_mg_per_ml=D("50"), volume_step_ml=D("0.1"))
    assert tolerance == D("2.5")
    assert not ledger.is_discrepancy(expected_mg=D("1199.7"), counted_mg=D("1200.0"), tolerance_mg=tolerance)
    assert not ledger.is_discrepancy(expected_mg=D("100.0"), counted_mg=D("97.5"), tolerance_mg=tolerance)
    assert ledger.is_discrepancy(expected_mg=D("100.0"), counted_mg=D("97.4"), tolerance_mg=tolerance)
    devices = ledger.count_tolerance_mg(concentration_mg_per_ml=D("0"), volume_step_ml=D("0.1"))
    assert devices == 0 and ledger.is_discrepancy(expected_mg=D("56"), counted_mg=D("55.9"), tolerance_mg=devices)


def test_stock_reads_as_containers_plus_the_opened_volume_and_dispensing_as_volume_or_devices() -> None:
    vial = {"unit_mg": D("500"), "concentration_mg_per_ml": D("50"), "unit": "vial"}
    assert ledger.stock_quantity(D("8753.8"), **vial) == "17 vials + 5.1 mL opened"
    assert ledger.stock_quantity(D("500"), **vial) == "1 vial"
    assert ledger.stock_quantity(D("0"), **vial) == "0 vials"
    assert ledger.stock_quantity(D("120"), **vial) == "2.4 mL opened"
    device = {"unit_mg": D("28"), "concentration_mg_per_ml": D("0"), "unit": "device"}
    assert ledger.stock_quantity(D("896"), **device) == "32 devices"
    assert ledger.stock_quantity(D("30"), **device) == "1 device + 2 mg"
    assert ledger.stock_quantity(D("5"), unit_mg=D("0"), concentration_mg_per_ml=D("0"), unit="x") == "5 mg"
    assert ledger.dispensed_quantity(D("30.6"), **vial) == "0.61 mL"
    assert ledger.dispensed_quantity(D("84"), **device) == "3 devices"
