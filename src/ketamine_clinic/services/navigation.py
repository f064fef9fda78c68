"""What the navigation shows: the patient banner, the global patient search and each
role's task queue. Read-only; every patient list goes through
``access.patient_queryset_for`` and is noted on the page's audit row (``note_listed``)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from functools import lru_cache
from typing import Any

from django.db import connection
from django.db.models import Q, QuerySet
from django.utils import timezone

from ketamine_clinic.domain.policy import Action, can
from ketamine_clinic.domain.protocols import PROTOCOLS
from ketamine_clinic.services import access, alerts, clinic, courses, rems
from ketamine_clinic.storage.models import (
    Alert,
    Course,
    InfusionSession,
    Intake,
    Order,
    Patient,
    PreProcedureRecord,
    SessionNote,
    User,
    Visit,
    WaitlistEntry,
)

__all__ = ["Banner", "Task", "banner", "my_tasks", "search_patients"]

SEARCH_LIMIT = 20


@dataclass(frozen=True)
class Banner:
    patient: Patient
    age_years: int
    weight_kg: float | None
    course: str
    allergies: str | None
    open_alerts: int


def _age(born: date, today: date) -> int:
    return today.year - born.year - ((today.month, today.day) < (born.month, born.day))


def _allergies(listed: object, none_known: bool | None) -> str | None:
    """The allergies of the latest pre-procedure record: the substances listed, "No known
    drug allergies" when that is stated, ``None`` without a record (the banner says "not
    recorded"). An empty list is never read as "none known"."""
    rows = listed if isinstance(listed, list) else []
    names = [str(a.get("substance", "")).strip() for a in rows if isinstance(a, dict)]
    names = [n for n in names if n]
    if names:
        return ", ".join(names)
    return "No known drug allergies" if none_known else None


@dataclass(frozen=True)
class _BannerFacts:
    weight_kg: float | None
    allergies: str | None
    open_alerts: int
    course_protocol: str | None = None
    course_status: str | None = None
    visits_planned: int = 0
    visits_done: int = 0


@lru_cache(maxsize=1)
def _banner_sql() -> str:
    """The banner's one statement. Every patient page shows the banner, and the ORM spent
    several milliseconds building its subqueries on each page (decision 0048), so it is a
    fixed statement: the same text every time, prepared once per connection on PostgreSQL.
    The row for a patient without a course still comes back (LEFT JOIN)."""
    intake, record = Intake._meta.db_table, PreProcedureRecord._meta.db_table
    alert, course, visit = Alert._meta.db_table, Course._meta.db_table, Visit._meta.db_table
    active = ", ".join(f"'{s}'" for s in Course.ACTIVE)
    return (
        "SELECT "
        f"(SELECT i.weight_kg FROM {intake} i WHERE i.patient_id = %s ORDER BY i.recorded_at DESC, i.id DESC LIMIT 1), "
        f"(SELECT r.allergies FROM {record} r WHERE r.patient_id = %s ORDER BY r.at DESC, r.id DESC LIMIT 1), "
        f"(SELECT r.no_known_allergies FROM {record} r WHERE r.patient_id = %s ORDER BY r.at DESC, r.id DESC LIMIT 1), "
        f"(SELECT COUNT(*) FROM {alert} a WHERE a.patient_id = %s AND a.acknowledged_at IS NULL), "
        "c.protocol, c.status, "
        f"(SELECT COUNT(*) FROM {visit} v WHERE v.course_id = c.id AND v.status <> 'cancelled'), "
        f"(SELECT COUNT(*) FROM {visit} v WHERE v.course_id = c.id AND v.status = 'done') "
        "FROM (SELECT 1 AS one) AS here LEFT JOIN ("
        f"SELECT id, protocol, status FROM {course} WHERE patient_id = %s AND status IN ({active}) "
        "ORDER BY planned_at DESC, id DESC LIMIT 1"
        ") AS c ON 1 = 1"
    )


def _banner_facts(patient: Patient) -> _BannerFacts:
    """The latest intake weight, the latest pre-procedure record's allergies, the number of
    open alerts and the active course (the latest planned) with its visits planned and
    done, in one query."""
    with connection.cursor() as cursor:
        cursor.execute(_banner_sql(), [patient.pk] * 5)
        weight, listed, none_known, open_alerts, protocol, status, planned, done = cursor.fetchone()
    if isinstance(listed, str):  # SQLite keeps JSON as text
        listed = json.loads(listed)
    return _BannerFacts(
        weight_kg=float(weight) if weight is not None else None,
        allergies=_allergies(listed, bool(none_known) if none_known is not None else None),
        open_alerts=int(open_alerts or 0),
        course_protocol=protocol,
        course_status=status,
        visits_planned=int(planned or 0),
        visits_done=int(done or 0),
    )


def banner(patient: Patient, *, at: datetime) -> Banner:
    """The facts every patient page shows above its content: name, age, the latest weight,
    the active course (protocol, phase, visits done of planned), allergies, open alerts."""
    facts = _banner_facts(patient)
    text = "no active course"
    if facts.course_protocol is not None:
        protocol = facts.course_protocol
        name = PROTOCOLS[protocol].name if protocol in PROTOCOLS else protocol
        status = dict(Course.STATUSES).get(facts.course_status or "", facts.course_status)
        text = f"{name} · {status} · {facts.visits_done} of {facts.visits_planned} visits done"
    return Banner(
        patient=patient,
        age_years=_age(patient.birth_date, timezone.localdate(at)),
        weight_kg=facts.weight_kg,
        course=text,
        allergies=facts.allergies,
        open_alerts=facts.open_alerts,
    )


def search_patients(actor: User, query: str) -> list[Patient]:
    """Patients ``actor`` may see whose name, MRN or date of birth (YYYY-MM-DD) matches
    ``query``; at most 20. The page that shows them notes them on its audit row."""
    query = query.strip()
    if len(query) < 2:
        return []
    found = access.patient_queryset_for(actor)
    condition = Q(mrn__iexact=query)
    try:
        condition |= Q(birth_date=date.fromisoformat(query))
    except ValueError:
        for word in query.split()[:3]:
            condition |= Q(family_name__icontains=word) | Q(given_name__icontains=word)
    rows = list(found.filter(condition).order_by("family_name", "given_name")[:SEARCH_LIMIT])
    access.note_listed(p.pk for p in rows)
    return rows


@dataclass(frozen=True)
class Task:
    kind: str
    text: str
    url_name: str
    args: tuple[int, ...] = ()
    patient_id: int | None = None
    due: datetime | None = None
    urgent: bool = False


def _local_day(at: datetime) -> tuple[datetime, datetime]:
    """The start of the clinic's local day holding ``at`` and of the next one (aware; a
    daylight-saving day is 23 or 25 hours long)."""
    today = timezone.localdate(at)
    zone = timezone.get_current_timezone()
    start = timezone.make_aware(datetime.combine(today, time.min), zone)
    return start, timezone.make_aware(datetime.combine(today + timedelta(days=1), time.min), zone)


def _forms_due(visible: QuerySet[Patient, dict[str, Any]], *, today: date) -> list[Task]:
    """The REMS Patient Monitoring Forms due or overdue for the patients ``visible``, the
    same list as the dashboard's (``rems.forms_due``); an overdue one is urgent [S37]."""
    found = rems.forms_due(today, visible)
    tasks = []
    for overdue, rows in ((True, found.overdue), (False, found.due)):
        for row in rows[:50]:
            patient = row.session.patient
            state = "overdue since" if overdue else "due"
            tasks.append(
                Task("rems_form", f"REMS monitoring form for {patient.full_name}, {state} {row.due_on:%d %b %Y}",
                     "session-rems", (row.session_id,), patient.pk,
                     timezone.make_aware(datetime.combine(row.due_on, time.min)) if row.due_on else None,
                     urgent=overdue)
            )  # fmt: skip
    return tasks


def my_tasks(actor: User, *, at: datetime) -> list[Task]:
    """What waits for ``actor``'s role: orders to verify (the clinic's verifying roles, never
    the signer's own), orders to sign for the next two days, end-of-induction decisions due,
    session notes to sign, open alerts, REMS monitoring forms due or overdue (for the roles
    that complete them), today's arrivals to check in and the waiting list. Each task links
    to the page that does it."""
    role = actor.role
    out: list[Task] = []
    visible = access.patient_queryset_for(actor, action=Action.VIEW_CHART).values("pk")
    if can(role, Action.VERIFY_ORDER) and role in clinic.verifier_roles():
        for order in (
            Order.objects.filter(verified_at__isnull=True, cancelled_reason="", visit__patient__in=visible)
            .exclude(signed_by=actor)
            .select_related("visit__patient")[:50]
        ):
            out.append(
                Task("verify", f"Verify the order for {order.visit.patient.full_name}", "order-verify", (order.pk,),
                     order.visit.patient_id, order.visit.starts_at)
            )  # fmt: skip
    if can(role, Action.SIGN_ORDER):
        soon = Visit.objects.filter(
            status="scheduled",
            starts_at__gte=at - timedelta(hours=2),
            starts_at__lt=at + timedelta(days=2),
            patient__in=visible,
        ).exclude(orders__cancelled_reason="")
        for visit in soon.select_related("patient")[:50]:
            out.append(
                Task("sign", f"Write the order for {visit.patient.full_name}'s visit", "order-new", (visit.pk,),
                     visit.patient_id, visit.starts_at)
            )  # fmt: skip
    if can(role, Action.DECIDE_INDUCTION):
        due = courses.with_decision_due(Course.objects.filter(patient__in=visible)).select_related("patient")
        for course in due.order_by("id")[:50]:
            out.append(
                Task("decide", f"End-of-induction decision for {course.patient.full_name}",
                     "induction-decision", (course.pk,), course.patient_id)
            )  # fmt: skip
    if can(role, Action.SIGN_NOTE):
        unsigned = InfusionSession.objects.filter(
            status="discharged", visit__patient__in=visible, discharged_at__gte=at - timedelta(days=7)
        ).exclude(pk__in=SessionNote.objects.values("session_id"))
        for session in unsigned.select_related("visit__patient")[:50]:
            out.append(
                Task("note", f"Sign the session note for {session.visit.patient.full_name}", "session",
                     (session.pk,), session.visit.patient_id)
            )  # fmt: skip
    if can(role, Action.ACKNOWLEDGE_ALERT):
        for alert in alerts.open_alerts().filter(patient__in=visible).select_related("patient")[:50]:
            out.append(
                Task("alert", f"{alert.get_severity_display().capitalize()} alert: {alert.patient.full_name} — "
                     f"{alert.message}", "alert", (alert.pk,), alert.patient_id, alert.raised_at,
                     urgent=alert.severity in {"urgent", "stop"})
            )  # fmt: skip
    if can(role, Action.SIGN_ORDER) or can(role, Action.RECORD_VITALS):
        out.extend(_forms_due(visible, today=timezone.localdate(at)))
    if can(role, Action.MANAGE_SCHEDULE):
        day_starts, day_ends = _local_day(at)
        arriving = Visit.objects.filter(
            status="scheduled", arrived_at__isnull=True, starts_at__gte=day_starts, starts_at__lt=day_ends
        )
        for visit in arriving.select_related("patient").order_by("starts_at", "id"):
            out.append(
                Task("arrive", f"Check in {visit.patient.full_name} ({timezone.localtime(visit.starts_at):%H:%M})",
                     "desk-visit", (visit.pk,), visit.patient_id, visit.starts_at)
            )  # fmt: skip
        waiting = WaitlistEntry.objects.filter(status="waiting").count()
        if waiting:
            out.append(Task("waitlist", f"{waiting} patient(s) on the waiting list", "desk-home"))
    access.note_listed(t.patient_id for t in out if t.patient_id)
    return sorted(out, key=lambda t: (not t.urgent, t.due or at))
