"""Read models for pages: a patient's timeline and trajectory, the clinic's day and its
outcomes. Queries are bounded: a fixed number per page, never one per row."""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, TypeVar

from django.db import connection, transaction
from django.db.models import Count, Exists, Model, OuterRef, Q
from django.utils import timezone
from django_tasks import task

from ketamine_clinic.domain import chairside
from ketamine_clinic.services import alerts, clinic, measures, protocols
from ketamine_clinic.services.courses import response_status
from ketamine_clinic.services.intake import latest_intake
from ketamine_clinic.storage.lookups import any_of_sql
from ketamine_clinic.storage.models import (
    Alert,
    Assessment,
    Chair,
    Course,
    EligibilityDecision,
    InfusionSession,
    Order,
    Patient,
    ReadModel,
    SideEffect,
    Visit,
    VitalSign,
)
from ketamine_clinic.storage.prepared import Prepared
from ketamine_clinic.storage.routers import reporting

__all__ = [
    "SUMMARY_REFRESH_AFTER",
    "TimelineItem",
    "clinic_day",
    "dashboard_summary",
    "outcomes_summary",
    "patient_overview",
    "refresh_outcomes_summary",
]


@dataclass(frozen=True)
class TimelineItem:
    at: datetime
    kind: str
    title: str
    detail: str = ""
    url_name: str = ""
    url_id: int | None = None
    tone: str = ""


@dataclass
class Overview:
    patient: Patient
    intake: Any
    decision: Any
    course: Course | None
    visits: list[Visit]
    orders: dict[int, Order]
    sessions: dict[int, InfusionSession]
    scores: list[Assessment]
    alerts: list[Alert]
    timeline: list[TimelineItem] = field(default_factory=list)
    status: Any = None


# The chart's reads, their SQL built once per process (``storage.prepared``); the latest
# intake is ``intake.latest_intake``.
_DECISION = Prepared(
    EligibilityDecision,
    lambda patient_id: (
        EligibilityDecision.objects.filter(patient_id=patient_id)
        .select_related("decided_by")
        .order_by("-decided_at", "-id")[:1]
    ),
    "patient_id",
)
_COURSE = Prepared(
    Course,
    lambda patient_id: Course.objects.filter(patient_id=patient_id).order_by("-planned_at", "-id")[:1],
    "patient_id",
)
_VISITS = Prepared(
    Visit,
    lambda patient_id: (
        Visit.objects.filter(patient_id=patient_id).select_related("chair", "course").order_by("starts_at")
    ),
    "patient_id",
)
_ORDERS = Prepared(
    Order,
    lambda patient_id: (
        Order.objects.filter(patient_id=patient_id, cancelled_reason="")
        .select_related("signed_by", "verified_by")
        .order_by("signed_at")
    ),
    "patient_id",
)
_SESSIONS = Prepared(
    InfusionSession, lambda patient_id: InfusionSession.objects.filter(patient_id=patient_id), "patient_id"
)
_SCORES = Prepared(
    Assessment, lambda patient_id: Assessment.objects.filter(patient_id=patient_id).order_by("at", "id"), "patient_id"
)
_ALERTS = Prepared(
    Alert,
    lambda patient_id: (
        Alert.objects.filter(patient_id=patient_id)
        .select_related("acknowledged_by", "assessment_record__assessed_by")
        .order_by("-raised_at")
    ),
    "patient_id",
)
_EFFECTS = Prepared(
    SideEffect,
    lambda patient_id: SideEffect.objects.filter(session__patient_id=patient_id).order_by("at"),
    "patient_id",
)


_R = TypeVar("_R", bound=Model)


def _own(row: _R | None, patient: Patient) -> _R | None:
    """``row.patient`` is the chart's patient object, as a read through the patient gives."""
    if row is not None:
        row.patient = patient  # type: ignore[attr-defined]
    return row


def patient_overview(patient: Patient) -> Overview:
    """Everything the chart shows, in a fixed number of queries."""
    pk = patient.pk
    intake = _own(latest_intake(patient), patient)
    decision = _own(_DECISION.first(patient_id=pk), patient)
    course = _own(_COURSE.first(patient_id=pk), patient)
    visits = _VISITS(patient_id=pk)
    orders: dict[int, Order] = {}
    for order in _ORDERS(patient_id=pk):
        orders[order.visit_id] = order
    sessions = {s.visit_id: s for s in _SESSIONS(patient_id=pk)}
    scores = _SCORES(patient_id=pk)
    alerts = _ALERTS(patient_id=pk)
    effects = _EFFECTS(patient_id=pk)
    overview = Overview(patient, intake, decision, course, visits, orders, sessions, scores, alerts)
    overview.timeline = _timeline(overview, effects)
    overview.status = response_status(course, scores) if course else None
    return overview


def _timeline(o: Overview, effects: list[SideEffect]) -> list[TimelineItem]:
    items: list[TimelineItem] = []
    if o.intake:
        items.append(
            TimelineItem(
                o.intake.recorded_at,
                "intake",
                "Intake and screen",
                o.intake.screen_status.replace("_", " "),
                "intake-detail",
                o.intake.pk,
            )
        )
    for v in o.visits:
        session = o.sessions.get(v.pk)
        order = o.orders.get(v.pk)
        detail = "no order yet"
        if order is not None:
            detail = (
                f"esketamine {order.dose_mg} mg ({order.devices} devices)"
                if order.route == "nasal"
                else f"{order.dose_mg} mg ({order.dose_mg_per_kg} mg/kg)"
            )
        if v.status == "cancelled":
            detail = f"cancelled: {v.cancel_reason}"
        items.append(
            TimelineItem(
                v.starts_at,
                "visit",
                f"{v.get_phase_display().capitalize()} infusion #{v.number}",
                detail,
                "session" if session else "",
                session.pk if session else None,
                v.status,
            )
        )
    for s in o.scores:
        items.append(
            TimelineItem(
                s.at,
                "score",
                f"{measures.instrument_name(s.instrument)} {s.total}",
                s.band,
                tone="flag" if s.flags else "",
            )
        )
    for a in o.alerts:
        items.append(
            TimelineItem(
                a.raised_at,
                "alert",
                a.message,
                "open" if a.acknowledged_at is None else "acknowledged",
                "alert",
                a.pk,
                "flag" if a.acknowledged_at is None else "",
            )
        )
    for e in effects:
        items.append(TimelineItem(e.at, "effect", f"Side effect: {chairside.side_effect_label(e.code)}", e.severity))
    return sorted(items, key=lambda i: i.at, reverse=True)


def _day_bounds(day: date) -> tuple[datetime, datetime]:
    tz = timezone.get_current_timezone()
    start = datetime.combine(day, time.min, tzinfo=tz)
    return start, start + timedelta(days=1)


def _open_session_visits() -> list[int]:
    """Visits whose session is still open (index ``kc_session_open``): read apart so the
    day's query is two index scans, not a scan of every visit joined to its session."""
    return list(
        InfusionSession.objects.filter(status__in=InfusionSession.OPEN_STATUSES).values_list("visit_id", flat=True)
    )


#: Chairs on one page of the Today board: a network has dozens of chairs and a couple of
#: hundred infusions a day (the desk's week pages chairs the same way).
TODAY_CHAIRS_PER_PAGE = 12


#: Every open alert with its patient, newest first (its SQL built once: ``storage.prepared``).
_OPEN_ALERTS = Prepared(
    Alert,
    lambda: Alert.objects.filter(acknowledged_at__isnull=True).select_related("patient").order_by("-raised_at"),
)


@dataclass(frozen=True, slots=True)
class DayVisit:
    """A visit on the Today board, with the names the board shows."""

    pk: int
    patient_id: int
    patient_name: str
    chair_id: int
    chair_name: str
    starts_at: datetime
    phase: str
    number: int

    def get_phase_display(self) -> str:
        return str(_PHASES.get(self.phase, self.phase))


@dataclass(frozen=True, slots=True)
class DaySession:
    """The visit's chair-side record on the Today board."""

    pk: int
    status: str

    def get_status_display(self) -> str:
        return str(_SESSION_STATUSES.get(self.status, self.status))


@dataclass(frozen=True, slots=True)
class DayOrder:
    """The visit's latest order that is not cancelled: whether a second clinician verified it."""

    pk: int
    verified_at: datetime | None


_PHASES = dict(Visit._meta.get_field("phase").flatchoices)
_SESSION_STATUSES = dict(InfusionSession._meta.get_field("status").flatchoices)


def _day_filter(
    start: datetime, end: datetime, open_visits: list[int], patient_ids: set[int] | None
) -> tuple[str, list[Any]]:
    """Today's visits that are not cancelled, and any visit whose session is still open."""
    ops, vendor = connection.ops, connection.vendor
    is_open, open_params = any_of_sql("v.id", open_visits, vendor)
    sql = f"((v.starts_at >= %s AND v.starts_at < %s) OR {is_open}) AND v.status <> 'cancelled'"
    params = [ops.adapt_datetimefield_value(start), ops.adapt_datetimefield_value(end), *open_params]
    if patient_ids is not None:
        mine, mine_params = any_of_sql("v.patient_id", sorted(patient_ids), vendor)
        sql, params = f"{sql} AND {mine}", [*params, *mine_params]
    return sql, params


def _aware(value: Any) -> datetime | None:
    """A timestamp read by a fixed statement as a datetime in UTC (SQLite returns text)."""
    if value is None or (isinstance(value, datetime) and value.tzinfo is not None):
        return value
    moment = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _day_chairs(where: str, params: list[Any]) -> list[tuple[str, int, int]]:
    """(chair name, chair id, visits) for every chair with a visit on the board."""
    visit, chair = Visit._meta.db_table, Chair._meta.db_table
    sql = (
        f"SELECT c.name, v.chair_id, COUNT(*) FROM {visit} v JOIN {chair} c ON c.id = v.chair_id "  # noqa: S608
        f"WHERE {where} GROUP BY c.name, v.chair_id"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return sorted((str(name), int(pk), int(n)) for name, pk, n in cursor.fetchall())


def _day_rows(where: str, params: list[Any], chair_ids: list[int]) -> list[tuple[Any, ...]]:
    """The shown chairs' visits with patient, chair, session, latest order that is not
    cancelled and the session's last vital signs, in one fixed statement (the Today board
    is a quarter of what a clinic's staff open, and the ORM built five queries for it)."""
    visit, chair, patient = Visit._meta.db_table, Chair._meta.db_table, Patient._meta.db_table
    session, order, vitals = InfusionSession._meta.db_table, Order._meta.db_table, VitalSign._meta.db_table
    shown, shown_params = any_of_sql("v.chair_id", chair_ids, connection.vendor)
    latest_order = (
        f"FROM {order} o WHERE o.visit_id = v.id AND o.cancelled_reason = '' "
        "ORDER BY o.signed_at DESC, o.id DESC LIMIT 1"
    )
    sql = (
        "SELECT v.id, v.patient_id, p.given_name, p.family_name, v.chair_id, c.name, v.starts_at, v.phase, "
        "v.number, s.id, s.status, "
        f"(SELECT o.id {latest_order}), (SELECT o.verified_at {latest_order}), "
        f"(SELECT MAX(vs.at) FROM {vitals} vs WHERE vs.session_id = s.id) "
        f"FROM {visit} v JOIN {patient} p ON p.id = v.patient_id JOIN {chair} c ON c.id = v.chair_id "
        f"LEFT JOIN {session} s ON s.visit_id = v.id "
        f"WHERE {where} AND {shown} ORDER BY v.starts_at, v.id"
    )  # noqa: S608
    with connection.cursor() as cursor:
        cursor.execute(sql, [*params, *shown_params])
        return list(cursor.fetchall())


def clinic_day(day: date, now: datetime, *, chair_page: int = 1, patient_ids: set[int] | None = None) -> dict[str, Any]:
    """Today's chairs and sessions, vitals due, open alerts and decisions due. The chairs
    with a visit today (or an open session) are shown ``TODAY_CHAIRS_PER_PAGE`` at a time,
    page ``chair_page``; ``total`` counts the day's infusions on every chair. ``patient_ids``
    limits everything to those patients (a clinician limited to their care teams). Each
    row's ``visit``, ``session`` and ``order`` are ``DayVisit``, ``DaySession`` and
    ``DayOrder`` (read only: the board links to the pages that change them)."""
    start, end = _day_bounds(day)
    where, params = _day_filter(start, end, _open_session_visits(), patient_ids)
    per_chair = _day_chairs(where, params)
    pages = max(1, -(-len(per_chair) // TODAY_CHAIRS_PER_PAGE))
    page = min(max(chair_page, 1), pages)
    shown = [c for _, c, _ in per_chair[(page - 1) * TODAY_CHAIRS_PER_PAGE : page * TODAY_CHAIRS_PER_PAGE]]
    rows = []
    for row in _day_rows(where, params, shown) if shown else []:
        pk, patient_id, given, family, chair_id, chair_name, starts_at, phase, number = row[:9]
        session_id, session_status, order_id, verified_at, last = row[9:]
        visit = DayVisit(
            pk, patient_id, f"{given} {family}", chair_id, chair_name, _aware(starts_at) or now, phase, number
        )
        session = DaySession(session_id, session_status) if session_id is not None else None
        due = None
        if session and session.status in {"running", "paused", "observing"}:
            interval = clinic.vitals_interval_min(dosing=session.status == "running")
            last_at = _aware(last)
            due = (last_at + timedelta(minutes=interval)) if last_at else now
        rows.append(
            {
                "visit": visit,
                "session": session,
                "order": DayOrder(order_id, _aware(verified_at)) if order_id is not None else None,
                "vitals_due": due,
                "overdue": bool(due and due <= now),
                "other_day": not start <= visit.starts_at < end,
            }
        )
    if patient_ids is None:
        open_alerts = alerts.most_serious_first(_OPEN_ALERTS())
    else:
        open_now = Alert.objects.filter(acknowledged_at__isnull=True, patient_id__in=patient_ids)
        open_alerts = alerts.most_serious_first(open_now.select_related("patient").order_by("-raised_at"))
    return {
        "rows": rows,
        "alerts": open_alerts,
        "decisions_due": _decisions_due(patient_ids),
        "total": sum(n for _, _, n in per_chair),
        "chair_pages": range(1, pages + 1) if pages > 1 else range(0),
        "chair_page": page,
    }


def _decisions_due(patient_ids: set[int] | None) -> list[Course]:
    """Courses whose induction has ended and wait for the respond/refer decision: the same
    rule as ``courses.decision_due`` (no induction visit scheduled, at least one given), in
    one query for every course (an anti-join on ``kc_visit_induction_ahead``). The whole
    clinic's list changes over days, not seconds: a server process reuses it for a few
    seconds (``clinic.recent``); a visit or course saved through this process is seen at
    once."""
    induction = Course.objects.filter(status="induction")
    if patient_ids is not None:
        induction = induction.filter(patient_id__in=patient_ids)
    induction_visits = Visit.objects.filter(course=OuterRef("pk"), phase="induction")
    due = (
        induction.filter(Exists(induction_visits.filter(status="done")))
        .exclude(Exists(induction_visits.filter(status="scheduled")))
        .prefetch_related("patient")  # joined in the same query, PostgreSQL scanned every patient
        .order_by("pk")
    )
    if patient_ids is not None:
        return list(due)
    return list(clinic.recent(DECISIONS_DUE_KEY, lambda: list(due)))


DECISIONS_DUE_KEY = "today:decisions_due"
clinic.forget_when_saved(DECISIONS_DUE_KEY, Course, Visit)


SUMMARY_KEY = "outcomes-summary"
#: A dashboard older than this queues a refresh on the task worker (and still shows at once).
#: On the 10,000-patient network one refresh takes 6 s of CPU (56 s wall on a busy machine):
#: outcome rates over years do not move in minutes, the clinic's CPU is better spent on pages.
SUMMARY_REFRESH_AFTER = timedelta(minutes=15)


def dashboard_summary(now: datetime) -> tuple[dict[str, Any], datetime]:
    """The outcomes summary as last computed by the task worker, and when. The first view
    of a new clinic computes it inline; a summary older than ``SUMMARY_REFRESH_AFTER`` queues
    one refresh (a conditional update, so a page viewed by sixteen people queues one job)."""
    row = ReadModel.objects.filter(key=SUMMARY_KEY).first()
    if row is None or row.computed_at is None:
        return refresh_outcomes_summary.call(), now
    stale = now - SUMMARY_REFRESH_AFTER
    if row.computed_at < stale and (row.refresh_queued_at is None or row.refresh_queued_at < stale):
        queued = ReadModel.objects.filter(key=SUMMARY_KEY, computed_at=row.computed_at).filter(
            Q(refresh_queued_at__isnull=True) | Q(refresh_queued_at__lt=stale)
        )
        if queued.update(refresh_queued_at=now):
            transaction.on_commit(refresh_outcomes_summary.enqueue)
    return row.data, row.computed_at


@task()
def refresh_outcomes_summary() -> dict[str, Any]:
    """Compute the outcomes summary (on the reporting replica when one is configured) and
    store it for the dashboard; returns it as stored (JSON)."""
    with reporting():
        summary: dict[str, Any] = json.loads(json.dumps(outcomes_summary(), default=str))
    ReadModel.objects.update_or_create(
        key=SUMMARY_KEY, defaults={"data": summary, "computed_at": timezone.now(), "refresh_queued_at": None}
    )
    return summary


def outcomes_summary() -> dict[str, Any]:
    """Response and remission rates, six-infusion completion and side-effect frequencies,
    computed from all of history (the worker's job: pages read ``dashboard_summary``)."""
    courses = list(
        Course.objects.select_related("patient").annotate(
            done=Count("visits", filter=Q(visits__status="done", visits__phase="induction"))
        )
    )
    scores_by_patient: dict[int, list[Assessment]] = {}
    for s in Assessment.objects.filter(instrument="phq9").order_by("at", "id"):
        scores_by_patient.setdefault(s.patient_id, []).append(s)
    statuses: Counter[str] = Counter()
    evaluated = 0
    for course in courses:
        status = response_status(course, scores_by_patient.get(course.patient_id, []))
        if status is not None and status.evaluable:
            evaluated += 1
            statuses[status.category] += 1
    sessions = InfusionSession.objects.filter(status="discharged").count()
    effects = Counter(SideEffect.objects.filter(amends__isnull=True).values_list("code", flat=True))
    return {
        "courses": len(courses),
        "completed_series": sum(1 for c in courses if c.done >= protocols.induction_count(c.protocol)),
        "evaluated": evaluated,
        "response": statuses["response"] + statuses["remission"],
        "remission": statuses["remission"],
        "sessions": sessions,
        "effects": [
            (chairside.side_effect_label(code), n, round(100 * n / sessions, 1) if sessions else 0.0)
            for code, n in effects.most_common()
        ],
        "by_status": Counter(c.status for c in courses),
    }
