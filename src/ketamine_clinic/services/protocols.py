"""The protocols the clinic runs, and the calendar their visits are planned on."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from ketamine_clinic.domain.protocols import PROTOCOLS, PlannedVisit, ProtocolError, plan_course
from ketamine_clinic.services.clinic import clinic_hours, clinic_rules
from ketamine_clinic.services.errors import InvalidInput
from ketamine_clinic.storage.models import InfusionSession

__all__ = [
    "VisitPlan",
    "clinic_protocols",
    "extension_offsets_days",
    "induction_count",
    "is_esketamine",
    "is_nasal_protocol",
    "next_clinic_day",
    "planned_nasal_dose",
    "primary_measure",
    "plan_visits",
    "protocol_choices",
    "protocol_summaries",
    "slot_minutes",
]


def is_esketamine(session: InfusionSession) -> bool:
    return session.visit.course.protocol.startswith("esketamine")


@dataclass(frozen=True)
class VisitPlan:
    dose_mg_per_kg: float
    visits: list[PlannedVisit]


def clinic_protocols() -> list[Any]:
    """Protocols the clinic workflow runs end to end: IV infusions and esketamine nasal spray."""
    return list(PROTOCOLS.values())


def is_nasal_protocol(protocol: str) -> bool:
    return PROTOCOLS[protocol].route == "nasal"


def protocol_choices() -> list[tuple[str, str]]:
    return [(p.code, p.name) for p in clinic_protocols()]


def protocol_summaries() -> list[dict[str, str]]:
    return [{"name": p.name, "summary": p.summary, "sources": p.sources} for p in clinic_protocols()]


def plan_visits(protocol: str, start: date) -> VisitPlan:
    if protocol not in {p.code for p in clinic_protocols()}:
        raise InvalidInput(
            f"protocol must be one of: {', '.join(p.code for p in clinic_protocols())}", field="protocol"
        )
    try:
        hours = clinic_hours()
        visits = plan_course(protocol, start, clinic_days=hours.days, closed=hours.closures, rules=clinic_rules())
    except ProtocolError as exc:
        raise InvalidInput(str(exc), field="protocol") from None
    p = PROTOCOLS[protocol]
    if p.route == "nasal":
        return VisitPlan(0.0, visits)  # dosed in 28 mg devices, not by weight
    return VisitPlan(p.dose_mg_per_kg or clinic_rules().standard_dose_mg_per_kg, visits)


def slot_minutes(protocol: str) -> int:
    return PROTOCOLS[protocol].slot_minutes


def induction_count(protocol: str) -> int:
    return (
        int(clinic_rules().induction_infusions)
        if protocol == "iv_racemic_depression"
        else PROTOCOLS[protocol].induction_visits
    )


def next_clinic_day(day: date) -> date:
    """``day`` or the next day the clinic is open (its weekdays, not a closure date)."""
    return clinic_hours().next_open_day(day)


def extension_offsets_days() -> list[int]:
    """Three more induction infusions, two to three days apart ([S12])."""
    return [2, 4, 7]


def primary_measure(protocol: str) -> str:
    """The measure a course of ``protocol`` is judged on ([S41][S44][S55])."""
    return PROTOCOLS[protocol].primary_measure if protocol in PROTOCOLS else "phq9"


def planned_nasal_dose(visit: Any) -> int:
    """The label's planned esketamine dose for ``visit``: TRD 56 mg on day 1, then 84 mg
    (or 56 mg, the prescriber's choice); MDSI 84 mg throughout [S32][S33]."""
    p = PROTOCOLS[visit.course.protocol]
    first = not visit.course.visits.filter(number__lt=visit.number, status="done").exists()
    return int((p.first_dose_mg if first else p.later_dose_mg) or 56)
