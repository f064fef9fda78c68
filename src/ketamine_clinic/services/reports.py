"""Clinic reports: monthly outcomes and the recall list of patients overdue for maintenance.

Monthly outcomes group courses by the month of their first infusion (the cohort):
courses started, induction series completed, courses evaluable, response and remission
(the clinic's settings, [S11][S70b][S55]) and the median days from the first infusion to
the first PHQ-9 at response level. Infusions and side effects are counted by the month the
infusion was given; the side-effect rate is per 100 discharged infusions [S23].

A fixed number of queries for the whole report (no query per course or per row).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from statistics import median

from django.db.models import Max, Q
from django.utils import timezone

from ketamine_clinic.domain.chairside import side_effect_label
from ketamine_clinic.services import clinic, courses, protocols
from ketamine_clinic.storage.models import Assessment, Course, InfusionSession, SideEffect, Visit

__all__ = ["MonthRow", "RecallRow", "monthly_outcomes", "recall_list"]


@dataclass
class MonthRow:
    month: str
    started: int = 0
    completed_induction: int = 0
    evaluated: int = 0
    responded: int = 0
    remitted: int = 0
    days_to_response: list[float] = field(default_factory=list)
    infusions: int = 0
    effects: Counter[str] = field(default_factory=Counter)

    @property
    def response_pct(self) -> float | None:
        return round(100 * self.responded / self.evaluated, 1) if self.evaluated else None

    @property
    def remission_pct(self) -> float | None:
        return round(100 * self.remitted / self.evaluated, 1) if self.evaluated else None

    @property
    def completion_pct(self) -> float | None:
        return round(100 * self.completed_induction / self.started, 1) if self.started else None

    @property
    def median_days_to_response(self) -> float | None:
        return round(median(self.days_to_response), 1) if self.days_to_response else None

    @property
    def effect_rate(self) -> float | None:
        return round(100 * sum(self.effects.values()) / self.infusions, 1) if self.infusions else None

    def effect_rates(self) -> list[tuple[str, int, float]]:
        if not self.infusions:
            return []
        return [(side_effect_label(c), n, round(100 * n / self.infusions, 1)) for c, n in self.effects.most_common()]


def _month(at: datetime) -> str:
    return f"{timezone.localtime(at):%Y-%m}"


def _months(first: date, last: date) -> list[str]:
    out, y, m = [], first.year, first.month
    while (y, m) <= (last.year, last.month):
        out.append(f"{y:04d}-{m:02d}")
        y, m = (y + 1, 1) if m == 12 else (y, m + 1)
    return out


def monthly_outcomes(*, since: date, until: date) -> list[MonthRow]:
    """One row per month from ``since`` to ``until`` (inclusive) [S11][S70b][S55][S23]."""
    rows = {key: MonthRow(key) for key in _months(since, until)}
    done = defaultdict(list)
    for v in Visit.objects.filter(status="done").select_related("session").order_by("starts_at"):
        session = getattr(v, "session", None)
        done[v.course_id].append((v, session.started_at if session and session.started_at else v.starts_at))
    scores = defaultdict(list)
    for s in Assessment.objects.filter(instrument="phq9").order_by("at", "id"):
        scores[s.patient_id].append(s)
    r = clinic.clinic_rules()
    for course in Course.objects.all():
        given = done.get(course.pk, [])
        if not given or _month(given[0][1]) not in rows:
            continue
        row, first_at = rows[_month(given[0][1])], given[0][1]
        row.started += 1
        induction = sum(1 for v, _ in given if v.phase == "induction")
        row.completed_induction += induction >= protocols.induction_count(course.protocol)
        status = courses.response_status(course, scores.get(course.patient_id, []))
        if status is not None and status.evaluable:
            row.evaluated += 1
            row.responded += status.category in ("response", "remission")
            row.remitted += status.category == "remission"
        if course.baseline_score:
            level = course.baseline_score * (1 - r.response_drop_pct / 100)
            hit = next((s for s in scores.get(course.patient_id, []) if s.at >= first_at and s.total <= level), None)
            if hit is not None:
                row.days_to_response.append((hit.at - first_at).total_seconds() / 86400)
    for session in InfusionSession.objects.filter(status="discharged").only("started_at", "opened_at"):
        key = _month(session.started_at or session.opened_at)
        if key in rows:
            rows[key].infusions += 1
    for code, at in SideEffect.objects.filter(amends__isnull=True, session__status="discharged").values_list(
        "code", "session__opened_at"
    ):
        key = _month(at)
        if key in rows:
            rows[key].effects[code] += 1
    return list(rows.values())


@dataclass(frozen=True)
class RecallRow:
    course: Course
    last_visit: datetime
    due: date
    overdue_days: int
    interval_weeks: int


def recall_list(*, today: date) -> list[RecallRow]:
    """Patients in maintenance with no visit booked whose next booster is past due: the
    interval the prescriber chose at the end of induction, else the clinic's longest
    maintenance interval (setting ``maintenance_max_weeks``) [S16][S17]. Most overdue first."""
    longest = int(clinic.clinic_rules().maintenance_max_weeks)
    now = datetime.combine(today, time.min, tzinfo=timezone.get_current_timezone())
    maintenance = (
        Course.objects.filter(status="maintenance")
        .annotate(
            last=Max("visits__starts_at", filter=Q(visits__status="done")),
            booked=Max("visits__starts_at", filter=Q(visits__status="scheduled", visits__starts_at__gte=now)),
        )
        .filter(booked__isnull=True, last__isnull=False)
        .select_related("patient")
        .prefetch_related("decisions")
    )
    out = []
    for course in maintenance:
        decision = next(iter(course.decisions.all()), None)
        weeks = decision.next_visit_weeks if decision and decision.next_visit_weeks else longest
        due = timezone.localtime(course.last).date() + timedelta(weeks=weeks)
        if due < today:
            out.append(RecallRow(course, course.last, due, (today - due).days, weeks))
    return sorted(out, key=lambda r: -r.overdue_days)
