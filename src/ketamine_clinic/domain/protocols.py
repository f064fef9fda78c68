"""Treatment protocols as data, and planning a course's visits on clinic days.

Errors::

    ProtocolError (ValueError)   unknown protocol, or a plan that cannot be made
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta

from ketamine_clinic.domain.settings import ClinicRules

__all__ = ["PROTOCOLS", "PlannedVisit", "Protocol", "ProtocolError", "plan_course"]


class ProtocolError(ValueError):
    code = "protocol"
    field = "protocol"


@dataclass(frozen=True)
class Protocol:
    code: str
    name: str
    route: str  # "iv" or "nasal"
    induction_visits: int
    per_week: float
    dose_mg_per_kg: float | None
    dose_mg: tuple[int, ...]  # esketamine: allowed doses
    duration_min: int
    maintenance: str
    slot_minutes: int
    summary: str
    sources: str


PROTOCOLS: dict[str, Protocol] = {
    "iv_racemic_depression": Protocol(
        "iv_racemic_depression",
        "IV racemic ketamine for depression",
        "iv",
        6,
        3,
        0.5,
        (),
        40,
        "one infusion every 2-6 weeks",
        120,
        "0.5 mg/kg over 40 min; six infusions at 2-3 a week; after three without response the dose may rise to "
        "0.75 mg/kg; responders go on to a booster every 2-6 weeks, non-responders to an alternative.",
        "[S11][S13][S12][S16][S17]",
    ),
    "esketamine_trd": Protocol(
        "esketamine_trd",
        "Esketamine nasal spray, treatment-resistant depression",
        "nasal",
        8,
        2,
        None,
        (56, 84),
        0,
        "weekly in weeks 5-8, then weekly or every 2 weeks",
        150,
        "Weeks 1-4 twice weekly (day 1: 56 mg; then 56 or 84 mg); weeks 5-8 weekly; then weekly or every two weeks. "
        "Observe at least 2 hours after each dose.",
        "[S32][S33][S30]",
    ),
    "esketamine_mdsi": Protocol(
        "esketamine_mdsi",
        "Esketamine nasal spray, depression with suicidal thoughts",
        "nasal",
        8,
        2,
        None,
        (84, 56),
        0,
        "benefit evaluated after 4 weeks; use beyond 4 weeks not evaluated",
        150,
        "84 mg twice weekly for 4 weeks (56 mg if not tolerated); evaluate benefit after 4 weeks.",
        "[S32][S33]",
    ),
    "iv_ptsd": Protocol(
        "iv_ptsd",
        "IV ketamine for PTSD",
        "iv",
        6,
        3,
        0.5,
        (),
        40,
        "not established",
        120,
        "Six infusions of 0.5 mg/kg over 40 min across two consecutive weeks.",
        "[S41]",
    ),
    "iv_chronic_pain": Protocol(
        "iv_chronic_pain",
        "IV ketamine for chronic pain (CRPS)",
        "iv",
        10,
        5,
        1.4,
        (),
        240,
        "case by case",
        300,
        "CRPS: 0.35 mg/kg/h over 4 h daily for 10 days (or 22 mg/h for 4 days); infusion range 0.5-2 mg/kg/h.",
        "[S44]",
    ),
}


@dataclass(frozen=True)
class PlannedVisit:
    number: int
    phase: str
    date: date
    dose_mg_per_kg: float | None
    dose_mg: int | None


def _protocol(code: str) -> Protocol:
    try:
        return PROTOCOLS[code]
    except KeyError:
        raise ProtocolError(f"unknown protocol {code!r}; protocols: {', '.join(PROTOCOLS)}") from None


def plan_course(
    protocol: str,
    start: date,
    *,
    clinic_days: Iterable[int] = (0, 1, 2, 3, 4),
    closed: Iterable[date] = (),
    rules: ClinicRules | None = None,
) -> list[PlannedVisit]:
    """The induction visits of ``protocol`` from ``start``, on clinic weekdays (0 = Monday),
    skipping ``closed`` dates, never closer than the minimum spacing, and at most the
    protocol's visits per week (IV depression [S12][S41], esketamine [S32], pain [S44]).
    The first visit is on ``start`` or the next open clinic day."""
    p = _protocol(protocol)
    r = rules or ClinicRules()
    days, shut = set(clinic_days), set(closed)
    if not days or not days <= set(range(7)):
        raise ProtocolError("clinic days must be weekday numbers 0-6, at least one")
    per_week = r.infusions_per_week if p.route == "iv" and p.per_week <= 3 else p.per_week
    count = int(r.induction_infusions) if p.code in {"iv_racemic_depression"} else p.induction_visits
    gap = timedelta(hours=r.min_hours_between_infusions if p.per_week <= 3 else 20)
    visits: list[PlannedVisit] = []
    day, last = start, None
    while len(visits) < count:
        week = day.isocalendar()[:2]
        in_week = sum(1 for v in visits if v.date.isocalendar()[:2] == week)
        if (
            day.weekday() in days
            and day not in shut
            and in_week < per_week
            and (last is None or timedelta(days=(day - last).days) >= gap)
        ):
            n = len(visits) + 1
            esk = p.dose_mg[0] if p.dose_mg and n == 1 else (p.dose_mg[-1] if p.dose_mg else None)
            visits.append(PlannedVisit(n, "induction", day, p.dose_mg_per_kg, esk))
            last = day
        day += timedelta(days=1)
        if (day - start).days > 366:
            raise ProtocolError("no clinic day fits the protocol within a year; check the clinic days")
    return visits
