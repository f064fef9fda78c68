"""What the navigation shows: the patient banner, the global patient search and each
role's task queue. Read-only; every patient list goes through
``access.patient_queryset_for`` and is noted on the page's audit row (``note_listed``)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.db.models import Count, Q
from django.utils import timezone

from ketamine_clinic.domain.policy import Action, can
from ketamine_clinic.domain.protocols import PROTOCOLS
from ketamine_clinic.services import access, alerts, clinic, courses
from ketamine_clinic.storage.models import (
    Course,
    InfusionSession,
    Intake,
    Order,
    Patient,
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


def _allergies(patient: Patient) -> str | None:
    """Allergies when the pre-procedure record keeps them (a related ``allergies`` list),
    else ``None`` (the banner says "not recorded")."""
    related = getattr(patient, "allergies", None)
    if related is None or not hasattr(related, "all"):
        return None
    names = [str(getattr(a, "substance", a)) for a in related.all()]
    return ", ".join(names) if names else "none known"


def banner(patient: Patient, *, at: datetime) -> Banner:
    """The facts every patient page shows above its content: name, age, the latest weight,
    the active course (protocol, phase, visits done of planned), allergies, open alerts."""
    latest = Intake.objects.filter(patient=patient).order_by("-recorded_at", "-id").only("weight_kg").first()
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
        weight_kg=float(latest.weight_kg) if latest is not None else None,
        course=text,
        allergies=_allergies(patient),
        open_alerts=alerts.open_alerts(patient).count(),
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


def my_tasks(actor: User, *, at: datetime) -> list[Task]:
    """What waits for ``actor``'s role: orders to verify (the clinic's verifying roles, never
    the signer's own), orders to sign for the next two days, end-of-induction decisions due,
    session notes to sign, open alerts, today's arrivals to check in, the waiting list,
    and a patient's own questionnaires. Each task links to the page that does it."""
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
        for course in Course.objects.filter(status__in=["induction", "decision_due"], patient__in=visible):
            if courses.decision_due(course):
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
    if can(role, Action.MANAGE_SCHEDULE):
        today = timezone.localdate(at)
        for visit in Visit.objects.filter(status="scheduled", arrived_at__isnull=True).select_related("patient"):
            if timezone.localdate(visit.starts_at) == today:
                out.append(
                    Task("arrive", f"Check in {visit.patient.full_name} ({timezone.localtime(visit.starts_at):%H:%M})",
                         "desk-visit", (visit.pk,), visit.patient_id, visit.starts_at)
                )  # fmt: skip
        waiting = WaitlistEntry.objects.filter(status="waiting").count()
        if waiting:
            out.append(Task("waitlist", f"{waiting} patient(s) on the waiting list", "desk-home"))
    access.note_listed(t.patient_id for t in out if t.patient_id)
    return sorted(out, key=lambda t: (not t.urgent, t.due or at))
