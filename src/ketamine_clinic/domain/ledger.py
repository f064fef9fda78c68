"""Controlled-substance ledger: the pure rules for stock, draws, waste, counts and reports.

Ketamine vials and esketamine nasal devices are Schedule III controlled substances
([S75][S40]). A registrant keeps a complete and accurate record of every unit received
and every unit disposed of ([S81]: 21 CFR 1304.21), a dispenser's record names the
substance, its finished form, the units received (when, from whom) and the units
dispensed (when, to whom, by whom) ([S81]: 21 CFR 1304.22(c)); an inventory counts every
finished form on hand and says whether it was taken at the opening or the close of
business, at least every two years ([S80]: 21 CFR 1304.11); a theft or significant loss is
reported on DEA Form 106 ([S82]: 21 CFR 1301.76(b)). Waste witnessed by a second licensed
clinician follows diversion-prevention guidance ([S83]).

Quantities are milligrams of the base (``*_mg``) as ``Decimal`` to 0.1 mg; a ``unit`` is one
vial or one device. Nothing here reads the clock: callers pass ``on`` / ``at``.

Errors::

    LedgerError (ValueError)   a rule refused the entry; ``field`` names the input
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_DOWN, ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from ketamine_clinic.domain.policy import Action, Role, can

__all__ = [
    "COUNT_KINDS",
    "DEFAULT_COUNT_TIMES",
    "DEFAULT_LEDGER_ROLES",
    "ESKETAMINE_DEVICE_MG",
    "FORM_106_FIELDS",
    "LEDGER_ACTIONS",
    "LOSS_RESOLUTIONS",
    "PRODUCTS",
    "RESOLUTIONS",
    "LedgerError",
    "ProductKind",
    "Receipt",
    "Tie",
    "biennial_due",
    "check_draw",
    "check_ledger_roles",
    "check_waste",
    "check_witness",
    "count_difference",
    "count_tolerance_mg",
    "counted_mg",
    "dispensed_quantity",
    "is_discrepancy",
    "mg",
    "plan_receipt",
    "session_tie",
    "stock_quantity",
    "units_of",
]

#: One esketamine nasal spray device delivers 28 mg of esketamine ([S40][S32]).
ESKETAMINE_DEVICE_MG = Decimal("28")
_TENTH = Decimal("0.1")


class LedgerError(ValueError):
    """A ledger rule refused the entry; ``field`` names the input it concerns."""

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


@dataclass(frozen=True)
class ProductKind:
    label: str
    unit: str
    route: str


PRODUCTS: dict[str, ProductKind] = {
    "ketamine_vial": ProductKind("Ketamine HCl injection (vial)", "vial", "iv"),
    "esketamine_device": ProductKind("Esketamine nasal spray (28 mg device)", "device", "nasal"),
}

#: Who may do what in the ledger, as far as scope of practice allows (``domain.policy``).
LEDGER_ACTIONS: tuple[Action, ...] = (
    Action.RECEIVE_STOCK,
    Action.DRAW_STOCK,
    Action.WASTE_STOCK,
    Action.WITNESS_WASTE,
    Action.COUNT_STOCK,
    Action.RESOLVE_DISCREPANCY,
)

#: The clinic's default: every role that scope of practice allows ([S81][S83]).
DEFAULT_LEDGER_ROLES: dict[str, tuple[str, ...]] = {
    a.value: tuple(r.value for r in Role if can(r, a)) for a in LEDGER_ACTIONS
}

#: When the clinic counts (its choice), besides the initial and biennial inventories ([S80]).
DEFAULT_COUNT_TIMES: tuple[str, ...] = ("opening", "closing")
COUNT_KINDS: dict[str, str] = {
    "opening": "opening count",
    "closing": "closing count",
    "shift": "shift-change count",
    "initial": "initial inventory",
    "biennial": "biennial inventory",
}

RESOLUTIONS: dict[str, str] = {
    "count_error": "Recount matches the record (no change to the balance)",
    "record_error": "Record error: the balance is set to the count",
    "loss": "Loss: the balance is set to the count; DEA Form 106 draft",
    "theft": "Theft: the balance is set to the count; DEA Form 106 draft",
}
LOSS_RESOLUTIONS = frozenset({"loss", "theft"})

#: The fields of DEA Form 106, Report of Theft or Loss of Controlled Substances ([S82]).
FORM_106_FIELDS: tuple[tuple[str, str], ...] = (
    ("registrant_name", "Name of registrant"),
    ("registrant_address", "Address of registrant"),
    ("dea_number", "DEA registration number"),
    ("date_of_loss", "Date of theft or loss (or first discovery)"),
    ("principal_business", "Principal type of business"),
    ("police_notified", "Local police notified (name, telephone)"),
    ("losses_24_months", "Thefts or losses in the past 24 months"),
    ("type_of_loss", "Type of theft or loss"),
    ("purchase_value", "Purchase value to registrant of controlled substances taken"),
    ("labels_marks", "Identifying marks, symbols or price codes on the labels"),
    ("order_forms_stolen", "Official order forms (DEA-222) stolen: numbers"),
    ("security_measures", "Security measures taken to prevent recurrence"),
)


def mg(value: Any, *, field: str = "mg") -> Decimal:
    """``value`` as milligrams to 0.1 mg; anything that is not a finite number raises
    ``LedgerError`` naming ``field`` ([S81]: quantities are recorded exactly)."""
    try:
        number = Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        raise LedgerError(f"{field.replace('_', ' ')} must be a number", field=field) from None
    if not number.is_finite():
        raise LedgerError(f"{field.replace('_', ' ')} must be a number", field=field)
    return number.quantize(_TENTH, rounding=ROUND_HALF_UP)


@dataclass(frozen=True)
class Receipt:
    unit_mg: Decimal
    total_mg: Decimal
    quantity: int


def _in(value: Decimal, low: str, high: str, field: str, unit: str) -> None:
    if not Decimal(low) <= value <= Decimal(high):
        raise LedgerError(f"{field.replace('_', ' ')} must be from {low} to {high} {unit}", field=field)


def plan_receipt(
    product_kind: str, *, concentration_mg_per_ml: Any, volume_ml: Any, quantity: Any, expiry: date, on: date
) -> Receipt:
    """The milligrams a receipt adds: vials x mL x mg/mL of base, or devices x 28 mg.

    Ketamine comes as 10, 50 and 100 mg/mL vials ([S75]); each esketamine device holds
    28 mg ([S40]). A lot already expired on ``on`` is refused. Raises ``LedgerError``.
    """
    if product_kind not in PRODUCTS:
        raise LedgerError("product must be a ketamine vial or an esketamine device", field="product_kind")
    try:
        count = int(str(quantity))
    except ValueError:
        raise LedgerError("quantity must be a whole number from 1 to 1000", field="quantity") from None
    if not 1 <= count <= 1000:
        raise LedgerError("quantity must be a whole number from 1 to 1000", field="quantity")
    if expiry < on:
        raise LedgerError(f"this lot expired on {expiry.isoformat()}; expired stock is not received", field="expiry")
    if product_kind == "esketamine_device":
        return Receipt(ESKETAMINE_DEVICE_MG, ESKETAMINE_DEVICE_MG * count, count)
    concentration = mg(concentration_mg_per_ml, field="concentration_mg_per_ml")
    volume = mg(volume_ml, field="volume_ml")
    _in(concentration, "1", "100", "concentration_mg_per_ml", "mg/mL")
    _in(volume, "0.5", "100", "volume_ml", "mL")
    unit = (concentration * volume).quantize(_TENTH)
    return Receipt(unit, unit * count, count)


def units_of(amount_mg: Decimal, unit_mg: Decimal) -> Decimal:
    """``amount_mg`` in vials or devices, to 0.01 unit ([S80]: count of each finished form)."""
    if unit_mg <= 0:
        return Decimal("0")
    return (amount_mg / unit_mg).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def stock_quantity(amount_mg: Decimal, *, unit_mg: Decimal, concentration_mg_per_ml: Decimal, unit: str) -> str:
    """Stock as an inventory states it: whole containers, plus the volume left in an opened
    vial to 0.1 mL ([S80]: the number of containers of each finished form, and an estimate
    for an opened Schedule III container). E.g. "17 vials + 7.6 mL opened", "32 devices"."""
    if unit_mg <= 0:
        return f"{amount_mg} mg"
    full = int(amount_mg // unit_mg)
    rest = amount_mg - unit_mg * full
    parts = [f"{full} {unit}{'' if full == 1 else 's'}"] if full or rest == 0 else []
    if rest > 0 and concentration_mg_per_ml > 0:
        parts.append(f"{(rest / concentration_mg_per_ml).quantize(_TENTH, rounding=ROUND_HALF_UP)} mL opened")
    elif rest > 0:
        parts.append(f"{rest} mg")
    return " + ".join(parts)


def dispensed_quantity(amount_mg: Decimal, *, unit_mg: Decimal, concentration_mg_per_ml: Decimal, unit: str) -> str:
    """The quantity dispensed as the record states it: the volume drawn from a vial to
    0.01 mL, or the number of devices ([S81]: 21 CFR 1304.22(c), units or volume)."""
    if concentration_mg_per_ml > 0:
        volume = (amount_mg / concentration_mg_per_ml).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
        return f"{volume} mL"
    return stock_quantity(amount_mg, unit_mg=unit_mg, concentration_mg_per_ml=concentration_mg_per_ml, unit=unit)


def check_draw(
    *, amount_mg: Decimal, balance_mg: Decimal, expiry: date, on: date, unit_mg: Decimal, whole_units: bool
) -> None:
    """A draw must be positive, no more than the lot holds, from a lot not expired on ``on``,
    and in whole devices for esketamine ([S81][S40]). Raises ``LedgerError``."""
    if amount_mg <= 0:
        raise LedgerError("amount drawn must be more than 0 mg", field="mg")
    if expiry < on:
        raise LedgerError(f"this lot expired on {expiry.isoformat()} and cannot be drawn", field="lot")
    if whole_units and amount_mg % unit_mg != 0:
        raise LedgerError(f"draw whole devices of {unit_mg} mg", field="mg")
    if amount_mg > balance_mg:
        raise LedgerError(f"the lot holds {balance_mg} mg; {amount_mg} mg cannot be drawn from it", field="mg")


def check_witness(
    *, recorder_id: int, witness_id: int | None, witness_role: str, allowed_roles: tuple[str, ...]
) -> None:
    """Waste is witnessed by a second licensed clinician, never the person wasting ([S83])."""
    if witness_id is None:
        raise LedgerError("a witness is required for waste", field="witness")
    if witness_id == recorder_id:
        raise LedgerError("the witness must be a second clinician, not the person wasting", field="witness")
    if witness_role not in allowed_roles:
        raise LedgerError("the witness must be a licensed clinician the clinic allows to witness", field="witness")


def check_waste(*, amount_mg: Decimal, drawn_mg: Decimal, given_mg: Decimal | None, wasted_mg: Decimal) -> None:
    """Waste is what was drawn and not given: it may not exceed drawn - given - already
    wasted ([S81][S83]). ``given_mg`` is None while the dose is still running."""
    if amount_mg <= 0:
        raise LedgerError("amount wasted must be more than 0 mg", field="mg")
    left = drawn_mg - (given_mg or Decimal("0")) - wasted_mg
    if amount_mg > left:
        raise LedgerError(f"only {max(left, Decimal('0'))} mg drawn from this lot is not given or wasted", field="mg")


@dataclass(frozen=True)
class Tie:
    drawn_mg: Decimal
    given_mg: Decimal
    wasted_mg: Decimal

    @property
    def residual_mg(self) -> Decimal:
        return self.drawn_mg - self.given_mg - self.wasted_mg

    @property
    def tied(self) -> bool:
        return self.drawn_mg > 0 and self.residual_mg == 0

    def message(self) -> str:
        if self.drawn_mg <= 0:
            return "No controlled substance was drawn from a lot for this session."
        if self.residual_mg > 0:
            return f"{self.residual_mg} mg drawn is neither given nor wasted: record the waste with a witness."
        if self.residual_mg < 0:
            return f"{-self.residual_mg} mg more was given or wasted than drawn: record the missing draw."
        return "Drawn = given + wasted."


def session_tie(*, drawn_mg: Decimal, given_mg: Decimal | None, wasted_mg: Decimal) -> Tie:
    """Drawn = given + wasted, to 0.1 mg, before a session closes ([S81]: every unit
    dispensed is accounted for)."""
    return Tie(drawn_mg, given_mg or Decimal("0"), wasted_mg)


def counted_mg(*, unit_mg: Decimal, full_units: Any, open_ml: Any, concentration_mg_per_ml: Decimal) -> Decimal:
    """A count in milligrams: sealed units x unit size, plus the estimated volume left in
    opened vials ([S80]: 21 CFR 1304.11(e)(3) allows an estimate for an opened Schedule III
    container). Raises ``LedgerError`` for a negative or non-numeric count."""
    try:
        full = int(str(full_units or 0))
    except ValueError:
        raise LedgerError("sealed units must be a whole number", field="full_units") from None
    volume = mg(open_ml or 0, field="open_ml")
    if full < 0:
        raise LedgerError("sealed units cannot be negative", field="full_units")
    if volume < 0:
        raise LedgerError("volume in opened vials cannot be negative", field="open_ml")
    if volume > 0 and concentration_mg_per_ml <= 0:
        raise LedgerError("devices are counted whole; no opened volume", field="open_ml")
    return (unit_mg * full + volume * concentration_mg_per_ml).quantize(_TENTH)


def count_difference(*, expected_mg: Decimal, counted_mg: Decimal) -> Decimal:
    """Counted minus the running balance; anything but zero is a discrepancy a prescriber
    must resolve ([S80][S81])."""
    return counted_mg - expected_mg


def count_tolerance_mg(*, concentration_mg_per_ml: Decimal, volume_step_ml: Decimal) -> Decimal:
    """How far a count may sit from the record without being a discrepancy: half the volume
    step to which an opened vial is estimated, in mg; zero for devices, which are counted
    whole ([S80]: 21 CFR 1304.11(e)(3) allows an estimate only for opened containers)."""
    if concentration_mg_per_ml <= 0:
        return Decimal("0")
    return (concentration_mg_per_ml * volume_step_ml / 2).quantize(_TENTH, rounding=ROUND_DOWN)


def is_discrepancy(*, expected_mg: Decimal, counted_mg: Decimal, tolerance_mg: Decimal) -> bool:
    """A count further from the record than the tolerance is a discrepancy a prescriber must
    resolve ([S80][S81])."""
    return abs(count_difference(expected_mg=expected_mg, counted_mg=counted_mg)) > tolerance_mg


def biennial_due(last_inventory: date | None, first_receipt: date | None) -> date | None:
    """The date by which the next biennial inventory is due: two years after the last
    inventory, else two years after the first receipt ([S80]: 21 CFR 1304.11(c))."""
    base = last_inventory or first_receipt
    if base is None:
        return None
    try:
        return base.replace(year=base.year + 2)
    except ValueError:  # 29 February
        return base.replace(year=base.year + 2, day=28)


def check_ledger_roles(roles: Mapping[str, Sequence[str]]) -> dict[str, tuple[str, ...]]:
    """The clinic's choice of roles per ledger action, within scope of practice: a role the
    policy matrix does not allow is refused ([S81][S83]). Raises ``LedgerError``."""
    clean: dict[str, tuple[str, ...]] = {}
    for action in LEDGER_ACTIONS:
        chosen = tuple(roles.get(action.value, DEFAULT_LEDGER_ROLES[action.value]))
        for role in chosen:
            if role not in {r.value for r in Role} or not can(role, action):
                raise LedgerError(f"{role} may not {action.value.replace('_', ' ')} (scope of practice)", field=action)
        if not chosen:
            raise LedgerError(f"at least one role must be able to {action.value.replace('_', ' ')}", field=action)
        clean[action.value] = chosen
    return clean
