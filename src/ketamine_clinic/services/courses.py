"""Treatment courses: planning the series on chairs, and the end-of-induction decision."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.db.models import Count, Q, QuerySet
from django.utils import timezone

from ketamine_clinic.domain.course import DECISIONS, InductionDecision, Reason, ResponseStatus, evaluate_response
from ketamine_clinic.domain.course import evaluate_induction as domain_evaluate_induction
from ketamine_clinic.domain.hours import booking_problem
from ketamine_clinic.domain.policy import Action
from ketamine_clinic.domain.protocols import PROTOCOLS, maintenance_rule, plan_esketamine_continuation
from ketamine_clinic.services import audit, clinic, protocols
from ketamine_clinic.services._common import check_day, lock_active_patient, move, require
from ketamine_clinic.services.errors import Conflict, InvalidInput
from ketamine_clinic.services.schedule import chair_is_free
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
    "BookingDeviations",
    "Placement",
    "course_scores",
    "decision_due",
    "do_book_maintenance_visit",
    "do_decide_induction",
    "do_end_course",
    "do_plan_course",
    "done_induction_visits",
    "evaluate_induction",
    "induction_decision_choices",
    "plan_placements",
    "response_status",
    "with_decision_due",
]

SLOT_STEP = timedelta(minutes=30)


def _eligible(patient: Patient) -> bool:
    latest = EligibilityDecision.objects.filter(patient=patient).order_by("-decided_at", "-id").first()
    return latest is not None and latest.decision == "eligible"


@dataclass(frozen=True)
class Placement:
    """Where one visit went, and how it differs from what was asked (``""`` when it is
    exactly the requested day, time and chair)."""

    number: int
    phase: str
    starts_at: datetime
    chair: Chair
    deviation: str = ""
    #: the day or time differs from the request (another chair alone is said, not asked about)
    moved: bool = False


class BookingDeviations(Conflict):
    """Some visits could not be booked as asked; nothing was saved. ``placements`` lists
    every visit as it would be booked, each deviation said in words."""

    def __init__(self, placements: list[Placement], requested: time) -> None:
        moved = [p for p in placements if p.moved]
        super().__init__(
            f"Nothing booked: {len(moved)} of {len(placements)} visits cannot be at {requested:%H:%M} as asked. "
            "Review the times below and book them, or choose another time.",
            field="start_time",
        )
        self.placements = placements


def _chairs(preferred: Chair | None) -> list[Chair]:
    chairs = list(Chair.objects.filter(active=True).order_by("name"))
    if preferred is not None:  # the row as stored now, not the caller's copy
        chairs = sorted(chairs, key=lambda c: c.pk != preferred.pk)
    return chairs


def _free_chair(starts: datetime, ends: datetime, chairs: list[Chair], now: datetime) -> Chair | None:
    hours = clinic.clinic_hours()
    for chair in chairs:
        window = clinic.chair_window(chair)
        if booking_problem(hours, starts, ends, now=now, window=window) is None and chair_is_free(chair, starts, ends):
            return chair
    return None


def _place(
    day: date, start: time, minutes: int, preferred: Chair | None, *, now: datetime
) -> tuple[datetime, Chair, str]:
    """The requested time on ``day`` on the preferred (else any) free chair; when none is
    free, the nearest free slot that day within the clinic's and the chair's hours, never in
    the past, with the reason in words. ``Conflict`` when the day has no free slot."""
    tz = timezone.get_current_timezone()
    hours = clinic.clinic_hours()
    length = timedelta(minutes=minutes)
    chairs = _chairs(preferred)
    asked = datetime.combine(day, start, tzinfo=tz)
    found = _free_chair(asked, asked + length, chairs, now)
    if found is not None:
        other = preferred is not None and found.pk != preferred.pk
        return asked, found, (f"on {found.name} ({preferred.name} is taken)" if other and preferred else "")
    why = booking_problem(hours, asked, asked + length, now=now) or f"no chair is free at {start:%H:%M}"
    opening = datetime.combine(day, hours.opens, tzinfo=tz)
    slots = []
    at = opening
    while at + length <= datetime.combine(day, hours.closes, tzinfo=tz):
        slots.append(at)
        at += SLOT_STEP
    for slot in sorted(slots, key=lambda t: (abs((t - asked).total_seconds()), t)):
        found = _free_chair(slot, slot + length, chairs, now)
        if found is not None:
            return slot, found, f"at {slot:%H:%M} instead of {start:%H:%M} ({why})"
    raise Conflict(
        f"No chair is free on {day:%A %d %B} between {hours.opens:%H:%M} and {hours.closes:%H:%M} "
        f"for a {minutes}-minute visit ({why}).",
        field="start_date",
    )


def _check_start(start_date: date, start_time: time, minutes: int, at: datetime) -> None:
    """The requested time must fit the clinic's hours and not be in the past."""
    hours = clinic.clinic_hours()
    tz = timezone.get_current_timezone()
    latest = (datetime.combine(start_date, hours.closes) - timedelta(minutes=minutes)).time()
    if not hours.opens <= start_time <= latest:
        raise InvalidInput(
            f"start time must be from {hours.opens:%H:%M} to {latest:%H:%M}: the clinic is open "
            f"{hours.opens:%H:%M}–{hours.closes:%H:%M} and a visit lasts {minutes} min",
            field="start_time",
        )
    if datetime.combine(start_date, start_time, tzinfo=tz) < at:
        raise InvalidInput(
            f"start date and time are in the past (now {timezone.localtime(at):%d %B %H:%M}); choose a later time",
            field="start_time",
        )


def plan_placements(
    protocol: str, *, start_date: date, start_time: time, chair: Chair | None, at: datetime
) -> list[Placement]:
    """Every visit of a course as it would be booked now, each deviation from the requested
    day, time and chair said in words. Saves nothing; ``do_plan_course`` books the same."""
    minutes = protocols.slot_minutes(protocol)
    _check_start(start_date, start_time, minutes, at)
    plan = protocols.plan_visits(protocol, start_date)
    out = []
    for visit in plan.visits:
        starts, placed, deviation = _place(visit.date, start_time, minutes, chair, now=at)
        if visit.number == 1 and visit.date != start_date:
            asked = datetime.combine(start_date, start_time, tzinfo=timezone.get_current_timezone())
            why = booking_problem(clinic.clinic_hours(), asked, asked, now=at) or "the protocol's spacing"
            deviation = "; ".join(x for x in (f"on {visit.date:%A %d %B} ({why})", deviation) if x)
        moved = timezone.localtime(starts).time() != start_time or visit.number == 1 and visit.date != start_date
        out.append(Placement(visit.number, visit.phase, starts, placed, deviation, moved))
    return out


def do_plan_course(
    patient: Patient,
    *,
    protocol: str,
    start_date: date,
    start_time: time = time(9, 0),
    chair: Chair | None = None,
    staff: User | None = None,
    baseline_score: int | None = None,
    accept_other_times: bool = False,
    oral_antidepressant: str = "",
    primary_measure: str = "",
    at: datetime,
    acting_user: User,
) -> Course:
    """Plan a course: the protocol's visits on open clinic days with minimum spacing, each
    at the requested time on a free chair within the clinic's (and chair's) hours, never in
    the past. When a visit cannot be at the requested time, ``BookingDeviations`` lists
    every visit as it would be booked and nothing is saved, unless ``accept_other_times``
    (the prescriber has seen them); the audit row records each deviation. Needs an
    "eligible" decision. The course is judged on ``primary_measure`` (default the
    protocol's; depression may use PHQ-9, MADRS or QIDS-SR16 [S55][S54][S66]). Esketamine
    for depression with suicidal thoughts is given with an oral antidepressant, which is
    recorded [S32][S33]. Nothing is saved if any visit cannot be placed."""
    require(acting_user, Action.PLAN_COURSE, "Only a prescriber plans a course.")
    if not _eligible(patient):
        raise Conflict("The patient has no eligibility decision of 'eligible'.", field="patient")
    oral_antidepressant = (oral_antidepressant or "").strip()
    if protocol in PROTOCOLS and PROTOCOLS[protocol].needs_oral_antidepressant and len(oral_antidepressant) < 3:
        raise InvalidInput(
            "oral antidepressant is required for esketamine in depression with suicidal thoughts "
            "(name and dose, 3 to 120 characters) [S32][S33]",
            field="oral_antidepressant",
        )
    if len(oral_antidepressant) > 120:
        raise InvalidInput("oral antidepressant must be 3 to 120 characters", field="oral_antidepressant")
    if protocol in PROTOCOLS:
        allowed = PROTOCOLS[protocol].measures
        primary_measure = primary_measure or PROTOCOLS[protocol].primary_measure
        if primary_measure not in allowed:
            raise InvalidInput(f"primary measure must be one of: {', '.join(allowed)}", field="primary_measure")
    check_day(start_date, earliest=timezone.localdate(at), field="start_date")
    plan = protocols.plan_visits(protocol, start_date)
    minutes = protocols.slot_minutes(protocol)
    with transaction.atomic():
        # lock, then check, then write: two prescribers at once plan one course
        lock_active_patient(patient.pk)
        if Course.objects.filter(patient=patient, status__in=Course.ACTIVE).exists():
            raise Conflict("The patient already has an active course.", field="protocol")
        list(Chair.objects.select_for_update().filter(active=True))  # serialise bookings
        placements = plan_placements(protocol, start_date=start_date, start_time=start_time, chair=chair, at=at)
        if any(p.moved for p in placements) and not accept_other_times:
            raise BookingDeviations(placements, start_time)
        course = Course.objects.create(
            patient=patient,
            protocol=protocol,
            dose_mg_per_kg=Decimal(str(plan.dose_mg_per_kg)),
            baseline_score=baseline_score,
            baseline_instrument=primary_measure,
            oral_antidepressant=oral_antidepressant,
            planned_by=acting_user,
            planned_at=at,
        )
        for p in placements:
            Visit.objects.create(
                course=course,
                patient=patient,
                number=p.number,
                phase=p.phase,
                starts_at=p.starts_at,
                ends_at=p.starts_at + timedelta(minutes=minutes),
                chair=p.chair,
                staff=staff,
            )
        audit.record(
            EventType.COURSE_PLANNED,
            actor=acting_user,
            patient=patient,
            subject=course,
            at=at,
            new={
                "protocol": protocol,
                "requested": f"{start_date.isoformat()} {start_time:%H:%M}",
                "visits": [timezone.localtime(p.starts_at).isoformat(timespec="minutes") for p in placements],
                "deviations": [f"#{p.number} {p.deviation}" for p in placements if p.deviation],
            },
        )
    return course


def done_induction_visits(course: Course) -> int:
    return course.visits.filter(phase="induction", status="done").count()


def with_decision_due(found: QuerySet[Course]) -> QuerySet[Course]:
    """The courses of ``found`` whose end-of-induction decision is due, filtered in SQL by
    the same rule as ``decision_due``: in induction, no induction visit still scheduled, at
    least one done."""
    return (
        found.filter(status="induction")
        .annotate(
            induction_pending=Count("visits", filter=Q(visits__phase="induction", visits__status="scheduled")),
            induction_done=Count("visits", filter=Q(visits__phase="induction", visits__status="done")),
        )
        .filter(induction_pending=0, induction_done__gt=0)
    )


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
    nasal = protocols.is_nasal_protocol(course.protocol)
    if decision == "extend" and nasal:
        raise InvalidInput(
            "esketamine is dosed 56 or 84 mg by the label, never by an mg/kg titration: choose maintenance or "
            "refer [S32][S33]",
            field="decision",
        )
    rule = maintenance_rule(course.protocol, clinic.clinic_rules())
    if (
        decision == "maintenance"
        and not nasal
        and not (next_visit_weeks and rule.min_weeks <= next_visit_weeks <= rule.max_weeks)
    ):
        raise InvalidInput(
            f"next visit must be in {rule.min_weeks} to {rule.max_weeks} weeks", field="next_visit_weeks"
        )
    with transaction.atomic():
        row = CourseDecision.objects.create(
            course=course,
            suggested=suggestion.decision,
            suggested_reasons=[r.as_dict() for r in suggestion.reasons],
            decision=decision,
            override_reason=override_reason,
            next_visit_weeks=next_visit_weeks if decision == "maintenance" and not nasal else None,
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
        if decision == "maintenance" and nasal:
            # weeks 5-8 once weekly, counted from the first dose [S32][S33]
            first = course.visits.filter(status="done").order_by("starts_at").first()
            start = timezone.localtime(first.starts_at).date() if first else at.date()
            for day in plan_esketamine_continuation(start):
                _book(course, "maintenance", max(day, timezone.localdate(at) + timedelta(days=1)), acting_user, at)
        elif decision == "maintenance" and next_visit_weeks:
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
    """A visit on ``day`` (or the next open day), at the first free time from opening."""
    day = protocols.next_clinic_day(max(day, timezone.localdate(at)))
    minutes = protocols.slot_minutes(course.protocol)
    starts, chair, _ = _place(day, clinic.clinic_hours().opens, minutes, None, now=at)
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
    hours = clinic.clinic_hours()
    if not hours.is_open_on(day):
        raise InvalidInput(
            f"day must be a day the clinic is open: {day:%A %d %B} is closed; the next open day is "
            f"{hours.next_open_day(day):%A %d %B}",
            field="day",
        )
    first = course.visits.exclude(status="cancelled").order_by("starts_at").first()
    week = (day - timezone.localtime(first.starts_at).date()).days // 7 + 1 if first else 9
    rule = maintenance_rule(course.protocol, clinic.clinic_rules(), week_of_course=week)
    weeks = rule.min_weeks
    last = course.visits.exclude(status="cancelled").order_by("-starts_at").first()
    if last is not None and day < timezone.localtime(last.starts_at).date() + timedelta(weeks=weeks):
        earliest = timezone.localtime(last.starts_at).date() + timedelta(weeks=weeks)
        raise InvalidInput(
            f"day must be on or after {earliest.isoformat()}: {rule.text} {rule.source}",
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
    """The scores on the course's primary measure since it was planned ([S41][S44][S55])."""
    return list(
        Assessment.objects.filter(
            patient=course.patient, instrument=course.baseline_instrument, at__gte=course.planned_at
        )
        .order_by("at")
        .values_list("total", flat=True)
    )


def evaluate_induction(course: Any) -> InductionDecision:
    """The end-of-induction suggestion on the course's primary measure; for esketamine in
    depression with suicidal thoughts a continuation carries the label's caveat that use
    beyond 4 weeks was not systematically evaluated [S32][S33]."""
    scores = course_scores(course)
    done = course.visits.filter(status="done").count()
    extended = course.decisions.filter(decision="extend").exists()
    suggestion = domain_evaluate_induction(
        instrument=course.baseline_instrument,
        baseline=course.baseline_score or (scores[0] if scores else 0),
        scores=scores,
        infusions_done=done,
        current_mg_per_kg=float(course.dose_mg_per_kg),
        already_extended=extended,
        esketamine=protocols.is_nasal_protocol(course.protocol),
        rules=clinic.clinic_rules(),
    )
    if course.protocol == "esketamine_mdsi" and suggestion.decision == "maintenance":
        caveat = Reason(
            "Depression with suicidal thoughts: use beyond 4 weeks was not systematically evaluated; continuing "
            "is the prescriber's judgement.",
            "[S32][S33]",
        )
        suggestion = replace(suggestion, reasons=(*suggestion.reasons, caveat))
    return suggestion


def induction_decision_choices(course: Any = None) -> list[tuple[str, str]]:
    """The end-of-induction choices; esketamine courses have no mg/kg titration [S32][S33]."""
    nasal = course is not None and protocols.is_nasal_protocol(course.protocol)
    return [(k, v) for k, v in DECISIONS.items() if not (nasal and k == "extend")]


def response_status(course: Any, scores: list[Any]) -> ResponseStatus | None:
    if course is None:
        return None
    measure = course.baseline_instrument
    own = [s for s in scores if s.instrument == measure and s.at >= course.planned_at]
    baseline = course.baseline_score
    if baseline is None:
        return None
    status = evaluate_response(measure, baseline, own[-1].total if own else None, clinic.clinic_rules())
    answers = list(getattr(own[-1], "answers", None) or []) if own else []
    if measure == "phq9" and status.category in {"remission", "response"} and len(answers) > 8 and answers[8]:
        # a low total can hide item 9: the score's category stands, the page must not read as "well" [S70][S65]
        status = dataclasses.replace(
            status,
            explanation=status.explanation + ' But item 9 (thoughts of self-harm) was answered above "not at '
            'all" on this PHQ-9: the suicide-risk pathway applies whatever the total.',
        )
    return status
