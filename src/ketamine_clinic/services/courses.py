"""Treatment courses: planning the series on chairs, and the end-of-induction decision."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.utils import timezone

from ketamine_clinic.domain.course import DECISIONS, InductionDecision, ResponseStatus, evaluate_response
from ketamine_clinic.domain.course import evaluate_induction as domain_evaluate_induction
from ketamine_clinic.domain.policy import Action
from ketamine_clinic.services import audit, clinic, protocols
from ketamine_clinic.services._common import check_day, move, require
from ketamine_clinic.services.errors import Conflict, InvalidInput
from ketamine_clinic.services.schedule import find_free_chair
from ketamine_clinic.storage.models import (
    Assessment,
    Chair,
    Course,
    CourseDecision,
    EligibilityDecision,
    EventType,
    Patient,
    User,
    Visit,
)

__all__ = [
    "INDUCTION_DECISIONS",
    "course_scores",
    "decision_due",
    "do_book_maintenance_visit",
    "do_decide_induction",
    "do_end_course",
    "do_plan_course",
    "done_induction_visits",
    "evaluate_induction",
    "induction_decision_choices",
    "response_status",
]

SLOT_STEP = timedelta(minutes=30)


def _eligible(patient: Patient) -> bool:
    latest = EligibilityDecision.objects.filter(patient=patient).order_by("-decided_at", "-id").first()
    return latest is not None and latest.decision == "eligible"


def _place(day: date, start: time, minutes: int, chair: Chair | None, close: time) -> tuple[datetime, Chair]:
    """The first half-hour slot from ``start`` on ``day`` with a free chair, else the first
    from the clinic's opening time."""
    tz = timezone.get_current_timezone()
    last = datetime.combine(day, close, tzinfo=tz)
    for begin in (start, protocols.CLINIC_OPENS):
        at = datetime.combine(day, begin, tzinfo=tz)
        while at + timedelta(minutes=minutes) <= last:
            found = find_free_chair(at, at + timedelta(minutes=minutes), preferred=chair)
            if found is not None:
                return at, found
            at += SLOT_STEP
    raise Conflict(f"No chair is free on {day:%A %d %B} before {close:%H:%M}.", field="start_date")


def do_plan_course(
    patient: Patient,
    *,
    protocol: str,
    start_date: date,
    start_time: time = time(9, 0),
    chair: Chair | None = None,
    staff: User | None = None,
    baseline_score: int | None = None,
    at: datetime,
    acting_user: User,
) -> Course:
    """Plan a course: the protocol's visits on clinic days with minimum spacing, each on a
    free chair. Needs an "eligible" decision. Nothing is saved if any visit cannot be placed."""
    require(acting_user, Action.PLAN_COURSE, "Only a prescriber plans a course.")
    if not _eligible(patient):
        raise Conflict("The patient has no eligibility decision of 'eligible'.", field="patient")
    check_day(start_date, earliest=timezone.localdate(at), field="start_date")
    plan = protocols.plan_visits(protocol, start_date)
    minutes = protocols.slot_minutes(protocol)
    with transaction.atomic():
        # lock, then check, then write: two prescribers at once plan one course
        Patient.objects.select_for_update().filter(pk=patient.pk).first()
        if Course.objects.filter(patient=patient, status__in=Course.ACTIVE).exists():
            raise Conflict("The patient already has an active course.", field="protocol")
        if chair is not None:
            Chair.objects.select_for_update().filter(pk=chair.pk).first()
        else:
            list(Chair.objects.select_for_update().filter(active=True))  # serialise bookings
        course = Course.objects.create(
            patient=patient,
            protocol=protocol,
            dose_mg_per_kg=Decimal(str(plan.dose_mg_per_kg)),
            baseline_score=baseline_score,
            planned_by=acting_user,
            planned_at=at,
        )
        for visit in plan.visits:
            starts, placed = _place(visit.date, start_time, minutes, chair, protocols.CLINIC_CLOSES)
            Visit.objects.create(
                course=course,
                patient=patient,
                number=visit.number,
                phase=visit.phase,
                starts_at=starts,
                ends_at=starts + timedelta(minutes=minutes),
                chair=placed,
                staff=staff,
            )
        audit.record(
            EventType.COURSE_PLANNED,
            actor=acting_user,
            patient=patient,
            subject=course,
            at=at,
            new={"protocol": protocol, "visits": [v.date.isoformat() for v in plan.visits]},
        )
    return course


def done_induction_visits(course: Course) -> int:
    return course.visits.filter(phase="induction", status="done").count()


def decision_due(course: Course) -> bool:
    """Induction is over (every planned induction visit done or cancelled) and undecided."""
    if course.status != "induction":
        return False
    pending = course.visits.filter(phase="induction", status="scheduled").exists()
    return not pending and done_induction_visits(course) > 0


def do_decide_induction(
    course: Course,
    *,
    decision: str,
    override_reason: str = "",
    next_visit_weeks: int | None = None,
    at: datetime,
    acting_user: User,
) -> CourseDecision:
    """Confirm or override the suggested end-of-induction decision (with a reason)."""
    require(acting_user, Action.DECIDE_INDUCTION, "Only a prescriber decides the end of induction.")
    if not decision_due(course):
        raise Conflict("The end-of-induction decision is not due for this course.", field="decision")
    suggestion = evaluate_induction(course)
    if decision not in INDUCTION_DECISIONS:
        raise InvalidInput(f"decision must be one of: {', '.join(INDUCTION_DECISIONS)}", field="decision")
    override_reason = override_reason.strip()
    if decision != suggestion.decision and len(override_reason) < 10:
        raise InvalidInput(
            "overriding the suggestion needs a reason (10 characters or more)",
            field="override_reason",
        )
    if decision == "maintenance" and not (next_visit_weeks and 2 <= next_visit_weeks <= 6):
        raise InvalidInput("next visit must be in 2 to 6 weeks", field="next_visit_weeks")
    with transaction.atomic():
        row = CourseDecision.objects.create(
            course=course,
            suggested=suggestion.decision,
            suggested_reasons=[r.as_dict() for r in suggestion.reasons],
            decision=decision,
            override_reason=override_reason,
            next_visit_weeks=next_visit_weeks if decision == "maintenance" else None,
            decided_by=acting_user,
            decided_at=at,
        )
        course.status = move(
            "course",
            course.status,
            {"maintenance": "maintenance", "refer": "referred", "extend": "induction"}[decision],
        )
        if decision == "extend":
            course.dose_mg_per_kg = Decimal(str(suggestion.next_dose_mg_per_kg or course.dose_mg_per_kg))
        course.save(update_fields=["status", "dose_mg_per_kg"])
        audit.record(
            EventType.INDUCTION_DECIDED,
            actor=acting_user,
            patient=course.patient,
            subject=row,
            at=at,
            new={"decision": decision, "suggested": suggestion.decision, "reason": override_reason},
        )
        if decision == "maintenance" and next_visit_weeks:
            last = course.visits.filter(status="done").order_by("-starts_at").first()
            base = timezone.localtime(last.starts_at).date() if last else at.date()
            _book(course, "maintenance", base + timedelta(weeks=next_visit_weeks), acting_user, at)
        if decision == "extend":
            last = course.visits.order_by("-starts_at").first()
            base = timezone.localtime(last.starts_at).date() if last else at.date()
            for offset in protocols.extension_offsets_days():
                _book(course, "induction", base + timedelta(days=offset), acting_user, at)
    return row


def _book(course: Course, phase: str, day: date, acting_user: User, at: datetime) -> Visit:
    day = protocols.next_clinic_day(day)
    minutes = protocols.slot_minutes(course.protocol)
    starts, chair = _place(day, time(9, 0), minutes, None, protocols.CLINIC_CLOSES)
    number = (course.visits.order_by("-number").values_list("number", flat=True).first() or 0) + 1
    visit = Visit.objects.create(
        course=course,
        patient=course.patient,
        number=number,
        phase=phase,
        starts_at=starts,
        ends_at=starts + timedelta(minutes=minutes),
        chair=chair,
    )
    audit.record(
        EventType.VISIT_BOOKED,
        actor=acting_user,
        patient=course.patient,
        subject=visit,
        at=at,
        new={"starts_at": starts.isoformat(), "chair": chair.name, "phase": phase},
    )
    return visit


def do_book_maintenance_visit(course: Course, *, day: date, acting_user: User, at: datetime) -> Visit:
    require(acting_user, Action.MANAGE_SCHEDULE, "Only the front desk books visits.")
    if course.status != "maintenance":
        raise Conflict("Maintenance visits are booked for courses in maintenance.", field="course")
    check_day(day, earliest=timezone.localdate(at), field="day")
    weeks = int(clinic.clinic_rules().maintenance_min_weeks)
    last = course.visits.exclude(status="cancelled").order_by("-starts_at").first()
    if last is not None and day < timezone.localtime(last.starts_at).date() + timedelta(weeks=weeks):
        earliest = timezone.localtime(last.starts_at).date() + timedelta(weeks=weeks)
        raise InvalidInput(
            f"day must be on or after {earliest.isoformat()}: boosters are at least {weeks} weeks "
            "after the previous infusion",
            field="day",
        )
    with transaction.atomic():
        return _book(course, "maintenance", day, acting_user, at)


COURSE_ENDINGS = {"completed": "completed", "cancelled": "cancelled"}


def do_end_course(course: Course, *, outcome: str, reason: str, at: datetime, acting_user: User) -> Course:
    """A prescriber completes or cancels an active course with a reason; its visits still
    booked (with no session opened) are cancelled with the same reason."""
    require(acting_user, Action.PLAN_COURSE, "Only a prescriber completes or cancels a course.")
    if outcome not in COURSE_ENDINGS:
        raise InvalidInput("outcome must be completed or cancelled", field="outcome")
    reason = reason.strip()
    if not 10 <= len(reason) <= 200:
        raise InvalidInput("reason must be 10 to 200 characters", field="reason")
    with transaction.atomic():
        locked = Course.objects.select_for_update().get(pk=course.pk)
        if locked.status not in Course.ACTIVE:
            raise Conflict(f"This course is already {locked.get_status_display()}.", field="course")
        if locked.visits.filter(session__status__in=["checklist", "ready", "running", "paused", "observing"]).exists():
            raise Conflict("A session of this course is open at the chair; close it first.", field="course")
        open_visits = locked.visits.filter(status="scheduled", session__isnull=True)
        cancelled = open_visits.count()
        open_visits.update(status="cancelled", cancel_reason=reason[:200])
        old = locked.status
        locked.status = move("course", locked.status, outcome)
        locked.save(update_fields=["status"])
        audit.record(
            EventType.COURSE_ENDED,
            actor=acting_user,
            patient=locked.patient,
            subject=locked,
            old={"status": old},
            new={"status": outcome, "reason": reason, "visits_cancelled": cancelled},
            at=at,
        )
    return locked


INDUCTION_DECISIONS = tuple(DECISIONS)


def course_scores(course: Any) -> list[int]:
    return list(
        Assessment.objects.filter(patient=course.patient, instrument="phq9", at__gte=course.planned_at)
        .order_by("at")
        .values_list("total", flat=True)
    )


def evaluate_induction(course: Any) -> InductionDecision:
    scores = course_scores(course)
    done = course.visits.filter(status="done").count()
    extended = course.decisions.filter(decision="extend").exists()
    return domain_evaluate_induction(
        instrument="phq9",
        baseline=course.baseline_score or (scores[0] if scores else 0),
        scores=scores,
        infusions_done=done,
        current_mg_per_kg=float(course.dose_mg_per_kg),
        already_extended=extended,
        rules=clinic.clinic_rules(),
    )


def induction_decision_choices() -> list[tuple[str, str]]:
    return list(DECISIONS.items())


def response_status(course: Any, scores: list[Any]) -> ResponseStatus | None:
    if course is None:
        return None
    phq = [s.total for s in scores if s.instrument == "phq9" and s.at >= course.planned_at]
    baseline = course.baseline_score
    if baseline is None:
        return None
    return evaluate_response("phq9", baseline, phq[-1] if phq else None, clinic.clinic_rules())
