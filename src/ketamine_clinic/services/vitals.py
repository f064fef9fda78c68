"""Alerts for a chair-side reading under the clinic's thresholds."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from ketamine_clinic.domain.vitals import VITAL_RANGES, evaluate_vitals, predose_deferral
from ketamine_clinic.services.clinic import clinic_rules
from ketamine_clinic.services.errors import InvalidInput

__all__ = ["FoundAlert", "check_vitals", "vital_alerts"]


@dataclass(frozen=True)
class FoundAlert:
    severity: str
    message: str
    source: str
    vital: str = ""

    def as_dict(self) -> dict[str, str]:
        return {"severity": self.severity, "message": self.message, "source": self.source, "vital": self.vital}


def vital_alerts(
    baseline: dict[str, Any], reading: dict[str, Any], *, pre_dose: bool, esketamine: bool
) -> list[FoundAlert]:
    """Alerts for a reading; before the dose also the deferral guide ([S30])."""
    found = [
        FoundAlert(a.severity, a.message, a.source, a.vital) for a in evaluate_vitals(reading, baseline, clinic_rules())
    ]
    if pre_dose:
        deferral = predose_deferral(reading, clinic_rules())
        if deferral is not None:
            found.append(FoundAlert(deferral.severity, deferral.message, deferral.source, "predose_bp"))
    return found


def check_vitals(values: dict[str, Any]) -> dict[str, int | None]:
    """Whole numbers within physiological ranges; respiratory rate may be absent."""
    clean: dict[str, int | None] = {}
    for name, (low, high) in VITAL_RANGES.items():
        raw = values.get(name)
        if raw in (None, "") and name == "respiratory_rate":
            clean[name] = None
            continue
        if isinstance(raw, bool) or not isinstance(raw, int | Decimal | str):
            raise InvalidInput(f"{name.replace('_', ' ')} must be from {low} to {high}", field=name)
        try:
            number = int(raw)
        except (TypeError, ValueError):
            raise InvalidInput(f"{name.replace('_', ' ')} must be from {low} to {high}", field=name) from None
        if not low <= number <= high:
            raise InvalidInput(f"{name.replace('_', ' ')} must be from {low} to {high}", field=name)
        clean[name] = number
    systolic, diastolic = clean["systolic_mmhg"], clean["diastolic_mmhg"]
    if systolic is not None and diastolic is not None and diastolic >= systolic:
        raise InvalidInput("diastolic pressure must be below systolic", field="diastolic_mmhg")
    return clean
