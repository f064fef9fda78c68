"""Body weight: entry in kg or lb, BMI, ideal and adjusted body weight, and the
plausibility checks that catch a slip before a dose is calculated from it.

Errors::

    WeightEntryError (ValueError)   a unit other than kg or lb, or a value outside the
                                    allowed range; ``.field`` names it
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from ketamine_clinic.domain.settings import ClinicRules

__all__ = [
    "KG_PER_LB",
    "WEIGHT_BASES",
    "BodyWeights",
    "WeightCheck",
    "WeightEntryError",
    "body_weights",
    "check_weight",
    "to_kg",
]

#: The international pound is exactly 0.45359237 kg [S92].
KG_PER_LB = Decimal("0.45359237")
WEIGHT_BASES = {"actual": "Actual body weight", "ideal": "Ideal body weight", "adjusted": "Adjusted body weight"}


class WeightEntryError(ValueError):
    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


def _q(value: Decimal) -> Decimal:
    return value.quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


def to_kg(value: float | Decimal | str, unit: str) -> Decimal:
    """``value`` in ``unit`` ("kg" or "lb") as kg to 0.1 kg; 1 lb = 0.45359237 kg [S92]."""
    if unit not in ("kg", "lb"):
        raise WeightEntryError("weight_unit", "weight unit must be kg or lb")
    try:
        number = Decimal(str(value))
    except ArithmeticError:
        raise WeightEntryError("weight", "weight must be a number") from None
    if not number.is_finite() or number <= 0:
        raise WeightEntryError("weight", "weight must be a positive number")
    return _q(number * KG_PER_LB if unit == "lb" else number)


@dataclass(frozen=True)
class BodyWeights:
    actual_kg: Decimal
    height_cm: Decimal
    bmi: Decimal
    ideal_kg: Decimal
    adjusted_kg: Decimal
    obese: bool

    def weight_for(self, basis: str) -> Decimal:
        if basis not in WEIGHT_BASES:
            raise WeightEntryError("weight_basis", f"weight basis must be one of: {', '.join(WEIGHT_BASES)}")
        return {"actual": self.actual_kg, "ideal": self.ideal_kg, "adjusted": self.adjusted_kg}[basis]


def body_weights(
    weight_kg: float | Decimal, height_cm: float | Decimal, sex: str, rules: ClinicRules | None = None
) -> BodyWeights:
    """BMI = kg / m² [S91]; ideal body weight by Devine: 50 kg (men) or 45.5 kg (women)
    plus 2.3 kg per inch above 5 feet [S89], the mean of both for another sex, never
    above the actual weight; adjusted body weight = ideal + 0.4 x (actual - ideal) [S90].
    ``obese`` at a BMI of ``obesity_bmi_at_least`` (30) or more [S91]."""
    r = rules or ClinicRules()
    actual, height = Decimal(str(weight_kg)), Decimal(str(height_cm))
    metres = height / 100
    bmi = _q(actual / (metres * metres))
    inches_over = height / Decimal("2.54") - 60
    base = {"male": Decimal("50"), "female": Decimal("45.5")}.get(sex, Decimal("47.75"))
    ideal = min(_q(base + Decimal("2.3") * inches_over), actual)
    adjusted = _q(ideal + Decimal("0.4") * (actual - ideal))
    return BodyWeights(_q(actual), _q(height), bmi, ideal, adjusted, float(bmi) >= r.obesity_bmi_at_least)


@dataclass(frozen=True)
class WeightCheck:
    """Reasons a newly entered weight looks like a slip; empty when it looks plausible."""

    warnings: tuple[str, ...]
    source: str = "[S91][S11]"

    @property
    def needs_confirmation(self) -> bool:
        return bool(self.warnings)


def check_weight(
    weight_kg: Decimal,
    *,
    height_cm: Decimal | None,
    previous_kg: Decimal | None,
    entered_unit: str = "kg",
    rules: ClinicRules | None = None,
) -> WeightCheck:
    """Plausibility of a new weight: a change from the previous weight beyond
    ``weight_change_confirm_pct`` [S11], or a BMI outside ``bmi_confirm_below`` to
    ``bmi_confirm_above`` [S91], needs the clinician's confirmation. When the number
    read in the other unit would match the previous weight, the message says so (180
    typed in kg for a 180 lb patient)."""
    r = rules or ClinicRules()
    out: list[str] = []
    if previous_kg is not None and previous_kg > 0:
        change = abs(weight_kg - previous_kg) * 100 / previous_kg
        if change > Decimal(str(r.weight_change_confirm_pct)):
            msg = (
                f"{weight_kg} kg is {change:.0f} % away from the previous weight of {previous_kg} kg "
                f"(more than {r.weight_change_confirm_pct:g} %)"
            )
            other = _q(weight_kg * KG_PER_LB) if entered_unit == "kg" else _q(weight_kg / KG_PER_LB)
            if abs(other - previous_kg) * 100 / previous_kg <= Decimal(str(r.weight_change_confirm_pct)):
                wrong, right = ("kg", "lb") if entered_unit == "kg" else ("lb", "kg")
                msg += f"; was it entered in {wrong} instead of {right}?"
            out.append(msg)
    if height_cm:
        metres = Decimal(str(height_cm)) / 100
        bmi = _q(weight_kg / (metres * metres))
        if float(bmi) < r.bmi_confirm_below or float(bmi) > r.bmi_confirm_above:
            out.append(f"BMI {bmi} at {height_cm} cm is outside {r.bmi_confirm_below:g}-{r.bmi_confirm_above:g} kg/m²")
    return WeightCheck(tuple(out))
