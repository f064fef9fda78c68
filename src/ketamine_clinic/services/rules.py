"""The bridge from stored rows to the pure clinical rules in ``domain``.

Services call these functions, never the domain directly for row-shaped questions, so
that loading settings and mapping rows to domain values happens in one place.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from ketamine_clinic.storage.models import InfusionSession, Intake, Patient

__all__ = [
    "CHECKLIST",
    "FoundAlert",
    "Verdict",
    "baseline_vitals",
    "discharge_verdict",
    "is_esketamine",
    "max_rate_factor",
    "vital_alerts",
]

#: Pre-infusion checklist items (field name, label). Sources: fasting and escort [S50],
#: consent [S2], the suicide screen before dosing [S70].
CHECKLIST: tuple[tuple[str, str], ...] = (
    ("identity_checked", "Identity and allergies checked"),
    ("fasting", "Fasting as instructed (no food 2 h, no liquids 30 min)"),
    ("escort", "Escort present to take the patient home"),
    ("consent", "Consent on file for this course"),
    ("questionnaire", "Today's PHQ-9 and suicide screen reviewed"),
    ("iv_access", "IV access in place and patent"),
)


@dataclass(frozen=True)
class FoundAlert:
    severity: str
    message: str
    source: str

    def as_dict(self) -> dict[str, str]:
        return {"severity": self.severity, "message": self.message, "source": self.source}


@dataclass(frozen=True)
class Verdict:
    ready: bool
    reasons: list[str]


def latest_intake(patient: Patient) -> Intake | None:
    return Intake.objects.filter(patient=patient).order_by("-recorded_at", "-id").first()


def baseline_vitals(patient: Patient) -> dict[str, int | None]:
    intake = latest_intake(patient)
    if intake is None:
        return {}
    return {
        "systolic_mmhg": intake.systolic_mmhg,
        "diastolic_mmhg": intake.diastolic_mmhg,
        "heart_rate_bpm": intake.heart_rate_bpm,
        "spo2_percent": intake.spo2_percent,
        "respiratory_rate": intake.respiratory_rate,
    }


def is_esketamine(session: InfusionSession) -> bool:
    return session.visit.course.protocol.startswith("esketamine")


def max_rate_factor() -> float:
    raise NotImplementedError


def vital_alerts(
    baseline: dict[str, Any], reading: dict[str, Any], *, pre_dose: bool, esketamine: bool
) -> list[FoundAlert]:
    raise NotImplementedError


def discharge_verdict(
    session: InfusionSession, *, aldrete: list[int], escort_present: bool, at: datetime
) -> Verdict:
    raise NotImplementedError
