"""What the navigation shows: the patient banner, the global patient search and each
role's task queue. Read-only; every patient list goes through
``access.patient_queryset_for`` and is noted on the page's audit row (``note_listed``)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from django.db.models import Count, IntegerField, JSONField, OuterRef, Q, QuerySet, Subquery
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


def _weight_allergies_alerts(patient: Patient) -> tuple[float | None, str | None, int]:
    """The latest intake weight, the latest pre-procedure record's allergies and the number
    of open alerts, in one query (the banner is on every patient page)."""
    latest_intake = Intake.objects.filter(patient=OuterRef("pk")).order_by("-recorded_at", "-id")
    latest_record = PreProcedureRecord.objects.filter(patient=OuterRef("pk")).order_by("-at", "-id")
    open_alerts = (
        Alert.objects.filter(patient=OuterRef("pk"), acknowledged_at__isnull=True)
        .order_by()
        .values("patient")
        .annotate(n=Count("pk"))
        .values("n")
    )
    row = (
        Patient.objects.filter(pk=patient.pk)
        .annotate(
            latest_weight_kg=Subquery(latest_intake.values("weight_kg")[:1]),
            allergies_listed=Subquery(latest_record.values("allergies")[:1], output_field=JSONField()),
            no_known_allergies=Subquery(latest_record.values("no_known_allergies")[:1]),
            open_alert_count=Subquery(open_alerts, output_field=IntegerField()),
        )
        .values("latest_weight_kg", "allergies_listed", "no_known_allergies", "open_alert_count")
        .first()
    )
    if row is None:
        return None, None, 0
    weight = float(row["latest_weight_kg"]) if row["latest_weight_kg"] is not None else None
    return weight, _allergies(row["allergies_listed"], row["no_known_allergies"]), row["open_alert_count"] or 0


def banner(patient: Patient, *, at: datetime) -> Banner:
    """The facts every patient page shows above its content: name, age, the latest weight,
    the active course (protocol, phase, visits done of planned), allergies, open alerts."""
    weight_kg, allergies, open_alert_count = _weight_allergies_alerts(patient)
    course = (
        Course.objects.filter(patient=patient, status__in=Course.ACTIVE)
        .annotate(
            planned=Count("visits", filter=~Q(visits__status="cancelled")),
            done=Count("visits", filter=Q(visits__status="done")),
        )
        .first()
    )
    text = "no active course"
    if course is not None:
        name = PROTOCOLS[course.protocol].name if course.protocol in PROTOCOLS else course.protocol
        text = f"{name} · {course.get_status_display()} · {course.done} of {course.planned} visits done"
    return Banner(
        patient=patient,
        age_years=_age(patient.birth_date, timezone.localdate(at)),
        weight_kg=weight_kg,
        course=text,
        allergies=allergies,
        open_alerts=open_alert_count,
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
