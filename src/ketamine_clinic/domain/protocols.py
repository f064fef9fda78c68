"""Treatment protocols as data, and planning a course's visits on clinic days.

Errors::

    ProtocolError (ValueError)   unknown protocol, or a plan that cannot be made
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta

from ketamine_clinic.domain.settings import ClinicRules

__all__ = [
    "PROTOCOLS",
    "MaintenanceRule",
    "PlannedVisit",
    "Protocol",
    "ProtocolError",
    "maintenance_rule",
    "plan_course",
    "plan_esketamine_continuation",
]


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
    #: esketamine: the planned dose of the first visit and of later visits (label [S32][S33])
    first_dose_mg: int | None = None
    later_dose_mg: int | None = None
    #: esketamine MDSI is labelled in conjunction with an oral antidepressant [S32][S33]
    needs_oral_antidepressant: bool = False
    #: the measure the end-of-induction decision reads (``domain.course.PRIMARY_MEASURES``)
    primary_measure: str = "phq9"
    #: the measures a prescriber may choose instead: depression PHQ-9, MADRS or QIDS-SR16
    #: [S55][S54][S66]; PTSD PCL-5 [S41]; chronic pain a 0-10 pain score [S85]
    measures: tuple[str, ...] = ("phq9", "madrs", "qids_sr16")


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
        first_dose_mg=56,
        later_dose_mg=84,
    ),
    "esketamine_mdsi": Protocol(
        "esketamine_mdsi",
        "Esketamine nasal spray, depression with suicidal thoughts",
        "nasal",
        8,
        2,
        None,
        (56, 84),
        0,
        "benefit evaluated after 4 weeks; use beyond 4 weeks not evaluated",
        150,
        "84 mg twice weekly for 4 weeks (56 mg if not tolerated), with an oral antidepressant; evaluate benefit "
        "after 4 weeks.",
        "[S32][S33]",
        first_dose_mg=84,
        later_dose_mg=84,
        needs_oral_antidepressant=True,
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
        primary_measure="pcl5",
        measures=("pcl5",),
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
        primary_measure="pain_nrs",
        measures=("pain_nrs",),
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
            esk = p.first_dose_mg if n == 1 else p.later_dose_mg
            visits.append(PlannedVisit(n, "induction", day, p.dose_mg_per_kg, esk))
            last = day
        day += timedelta(days=1)
        if (day - start).days > 366:
            raise ProtocolError("no clinic day fits the protocol within a year; check the clinic days")
    return visits


@dataclass(frozen=True)
class MaintenanceRule:
    """How far apart maintenance visits may be, in weeks, and why."""

    min_weeks: int
    max_weeks: int
    text: str
    source: str


def maintenance_rule(protocol: str, rules: ClinicRules | None = None, *, week_of_course: int = 9) -> MaintenanceRule:
    """Esketamine: once weekly in weeks 5-8, then once weekly or every 2 weeks [S32][S33];
    IV: the clinic's 2-6-week booster range [S16][S17]. ``week_of_course`` is the course
    week (1 = the week of the first dose) the next visit falls in."""
    p = _protocol(protocol)
    if p.route == "nasal":
        if week_of_course <= 8:
            return MaintenanceRule(1, 1, "Esketamine maintenance is once weekly in weeks 5-8.", "[S32][S33]")
        return MaintenanceRule(
            1, 2, "From week 9 esketamine maintenance is once weekly or every 2 weeks.", "[S32][S33]"
        )
    r = rules or ClinicRules()
    low, high = int(r.maintenance_min_weeks), int(r.maintenance_max_weeks)
    return MaintenanceRule(low, high, f"IV boosters are every {low}-{high} weeks.", "[S16][S17]")


def plan_esketamine_continuation(first_dose_on: date) -> list[date]:
    """The weekly maintenance dates of weeks 5-8 of an esketamine course whose first dose
    was on ``first_dose_on`` (week 1) [S32][S33]: days 28, 35, 42 and 49."""
    return [first_dose_on + timedelta(days=d) for d in (28, 35, 42, 49)]
