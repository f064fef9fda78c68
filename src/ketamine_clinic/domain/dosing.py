"""Weight-based infusion doses, volumes and pump rates, under the clinic's hard limits.

Rounding (stated so a second clinician can reproduce it): dose to 0.1 mg, volume to
0.1 mL, pump rate to 0.1 mL/h, each rounded half-up from the unrounded value.

Errors::

    DoseLimitError (ValueError)   a value outside its allowed range or above a hard
                                  limit; ``.field`` names it and the message gives
                                  the allowed range
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_DOWN, ROUND_HALF_UP, Decimal

from ketamine_clinic.domain.settings import ClinicRules

__all__ = [
    "ESKETAMINE_DEVICE_MG",
    "HCL_TO_BASE",
    "DoseLimitError",
    "DoseLimits",
    "EsketamineDose",
    "InfusionPlan",
    "TitrationSuggestion",
    "plan_esketamine_dose",
    "plan_infusion",
    "suggest_titration",
]

#: mg of ketamine base per labelled mg of the hydrochloride: the Ketalar label states 10 mg
#: base = 11.53 mg hydrochloride (10 / 11.53, four decimals; the PK engine uses the same figure).
HCL_TO_BASE = Decimal("0.8673")
ESKETAMINE_DEVICE_MG = 28


class DoseLimitError(ValueError):
    code = "dose_limit"

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


@dataclass(frozen=True)
class DoseLimits:
    max_mg_per_kg: float
    max_mg_per_session: float
    max_rate_mg_per_kg_per_h: float
    min_weight_kg: float
    max_weight_kg: float

    @classmethod
    def from_rules(cls, rules: ClinicRules, protocol: str = "") -> DoseLimits:
        """The hard limits among the clinic's settings [S11][S14]; the chronic-pain protocol
        (0.35 mg/kg/h over 4 h) has its own mg/kg, per-session and rate limits [S44]."""
        if protocol == "iv_chronic_pain":
            return cls(
                rules.pain_max_dose_mg_per_kg,
                rules.pain_max_dose_mg_per_session,
                rules.pain_max_rate_mg_per_kg_per_h,
                rules.min_weight_kg,
                rules.max_weight_kg,
            )
        return cls(
            rules.max_dose_mg_per_kg,
            rules.max_dose_mg_per_session,
            rules.max_rate_mg_per_kg_per_h,
            rules.min_weight_kg,
            rules.max_weight_kg,
        )


@dataclass(frozen=True)
class InfusionPlan:
    weight_kg: Decimal
    dose_mg_per_kg: Decimal
    dose_mg: Decimal
    duration_min: int
    concentration_mg_per_ml: Decimal
    volume_ml: Decimal
    rate_ml_per_h: Decimal
    rate_mg_per_h: Decimal
    rate_mg_per_kg_per_h: Decimal
    bag_volume_ml: Decimal | None = None


def _q(value: Decimal) -> Decimal:
    return value.quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


def _positive(name: str, value: float, low: float, high: float, unit: str) -> Decimal:
    if isinstance(value, bool) or not low <= float(value) <= high:
        raise DoseLimitError(name, f"{name.replace('_', ' ')} must be from {low:g} to {high:g} {unit}")
    return Decimal(str(value))


def plan_infusion(
    weight_kg: float,
    dose_mg_per_kg: float,
    duration_min: int,
    concentration_mg_per_ml: float,
    bag_volume_ml: float | None = None,
    limits: DoseLimits | None = None,
    *,
    labelled_as_hcl: bool = False,
) -> InfusionPlan:
    """Dose in mg of free base, volume and pump rate for a weight-based infusion.

    Default protocol 0.5 mg/kg over 40 min [S11][S13]. Hard limits (mg/kg, mg per
    session, mg/kg/h) are clinic settings [S14][S44]; any value beyond one raises
    ``DoseLimitError``. With ``labelled_as_hcl`` the concentration is read as mg of the
    hydrochloride per mL and converted to base with ``HCL_TO_BASE`` [S13].
    """
    lim = limits or DoseLimits.from_rules(ClinicRules())
    weight = _positive("weight_kg", weight_kg, lim.min_weight_kg, lim.max_weight_kg, "kg")
    per_kg = _positive("dose_mg_per_kg", dose_mg_per_kg, 0.05, lim.max_mg_per_kg, "mg/kg")
    minutes = int(_positive("duration_min", duration_min, 10, 240, "min"))
    conc = _positive("concentration_mg_per_ml", concentration_mg_per_ml, 0.1, 50, "mg/mL")
    if labelled_as_hcl:
        conc = conc * HCL_TO_BASE
    dose = weight * per_kg
    if dose > Decimal(str(lim.max_mg_per_session)):
        most = (Decimal(str(lim.max_mg_per_session)) / weight).quantize(Decimal("0.01"), rounding=ROUND_DOWN)
        raise DoseLimitError(
            "dose_mg_per_kg",
            f"dose {_q(dose)} mg is above the session limit of "
            f"{lim.max_mg_per_session:g} mg (allowed 0 to {lim.max_mg_per_session:g} mg): at {weight} kg the "
            f"session limit allows at most {most} mg/kg",
        )
    rate_per_kg = per_kg * 60 / minutes
    if rate_per_kg > Decimal(str(lim.max_rate_mg_per_kg_per_h)):
        raise DoseLimitError(
            "duration_min",
            f"rate {_q(rate_per_kg)} mg/kg/h is above the limit of "
            f"{lim.max_rate_mg_per_kg_per_h:g} mg/kg/h: lengthen the infusion",
        )
    volume = dose / conc
    bag = None
    if bag_volume_ml is not None:
        bag = _positive("bag_volume_ml", bag_volume_ml, 1, 1000, "mL")
        if volume > bag:
            raise DoseLimitError("bag_volume_ml", f"the dose needs {_q(volume)} mL but the bag holds {bag} mL")
    return InfusionPlan(
        weight,
        per_kg,
        _q(dose),
        minutes,
        conc,
        _q(volume),
        _q(volume * 60 / minutes),
        _q(dose * 60 / minutes),
        _q(rate_per_kg),
        bag,
    )


@dataclass(frozen=True)
class EsketamineDose:
    dose_mg: int
    devices: int
    spacing_min: int = 5


def plan_esketamine_dose(dose_mg: int, *, first_dose: bool = False, indication: str = "trd") -> EsketamineDose:
    """Esketamine nasal spray as a count of 28 mg devices, 5 minutes apart [S32][S33].

    Allowed doses are 56 mg and 84 mg. Treatment-resistant depression (``indication``
    "trd"): the first induction dose is 56 mg, and 84 mg only after a 56 mg start [S32].
    Depression with suicidal thoughts ("mdsi"): 84 mg from the first dose, 56 mg if 84 mg
    is not tolerated [S32][S33]. Raises ``DoseLimitError`` otherwise.
    """
    if dose_mg not in (56, 84):
        raise DoseLimitError("dose_mg", "esketamine dose must be 56 or 84 mg (2 or 3 devices)")
    if indication not in ("trd", "mdsi"):
        raise DoseLimitError("indication", "esketamine indication must be trd or mdsi")
    if first_dose and indication == "trd" and dose_mg != 56:
        raise DoseLimitError("dose_mg", "the first esketamine dose must be 56 mg for treatment-resistant depression")
    return EsketamineDose(dose_mg, dose_mg // ESKETAMINE_DEVICE_MG)


@dataclass(frozen=True)
class TitrationSuggestion:
    dose_mg_per_kg: float
    reason: str
    source: str


def suggest_titration(
    infusions_given: int, responding: bool | None, current_mg_per_kg: float, rules: ClinicRules | None = None
) -> TitrationSuggestion | None:
    """The titration table: after ``titrate_after_infusions`` (3) infusions without
    response, suggest ``titrated_dose_mg_per_kg`` (0.75 mg/kg) [S12]. Returns ``None``
    when no change is suggested. A prescriber decides; the suggestion is not an order.
    """
    r = rules or ClinicRules()
    if responding or responding is None or infusions_given < r.titrate_after_infusions:
        return None
    if current_mg_per_kg >= r.titrated_dose_mg_per_kg:
        return None
    return TitrationSuggestion(
        r.titrated_dose_mg_per_kg,
        f"No response after {infusions_given} infusions at {current_mg_per_kg:g} mg/kg: the two-step escalation "
        f"study raised the dose to {r.titrated_dose_mg_per_kg:g} mg/kg.",
        "[S12]",
    )
