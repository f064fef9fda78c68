"""Chairs and visits: booking, rescheduling and cancelling, never double-booking a chair.

A chair is busy from a visit's start to its end (the infusion plus observation); two
scheduled visits may not overlap on one chair, and one patient may not have two
infusions closer than the protocol's minimum spacing.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta

from django.db import transaction
from django.utils import timezone

from ketamine_clinic.domain.hours import HoursError, booking_problem
from ketamine_clinic.domain.policy import Action, can
from ketamine_clinic.services import audit, clinic
from ketamine_clinic.services._common import check_day, move, require
from ketamine_clinic.services.errors import Conflict, InvalidInput, NotAllowed
from ketamine_clinic.storage.models import Chair, EventType, InfusionSession, Patient, User, Visit, WaitlistEntry

__all__ = [
    "chair_is_free",
    "do_add_to_waitlist",
    "do_cancel_visit",
    "do_check_in_visit",
    "do_mark_no_show",
    "do_resolve_waitlist_entry",
    "do_set_chair_hours",
    "do_create_chair",
    "do_set_chair_active",
    "do_move_visit_to_today",
    "do_reschedule_visit",
    "find_free_chair",
    "spacing_conflict",
]


def _require_chairs(acting_user: User | None) -> None:
    """Chairs are kept by the front desk or the administrator."""
    if acting_user is not None and not (
        can(acting_user.role, Action.MANAGE_SCHEDULE) or can(acting_user.role, Action.MANAGE_SETTINGS)
    ):
        raise NotAllowed("Your role may not manage chairs.")


def do_create_chair(name: str, *, acting_user: User | None) -> Chair:
    _require_chairs(acting_user)
    name = name.strip()
    if not 1 <= len(name) <= 40:
        raise InvalidInput("chair name must be 1 to 40 characters", field="name")
    with transaction.atomic():
        if Chair.objects.filter(name__iexact=name).exists():
            raise Conflict(f"A chair named {name!r} exists already.", field="name")
        chair = Chair.objects.create(name=name)
        audit.record(EventType.CHAIR_CHANGED, actor=acting_user, subject=chair, new={"name": name})
    return chair


def do_set_chair_active(chair: Chair, active: bool, *, acting_user: User | None) -> Chair:
    """Retire a chair (no new bookings) or bring it back. A chair with visits still booked
    from now on cannot be retired until they are moved."""
    _require_chairs(acting_user)
    with transaction.atomic():
        locked = Chair.objects.select_for_update().get(pk=chair.pk)
        if not active:
            booked = Visit.objects.filter(chair=locked, status="scheduled", starts_at__gte=timezone.now()).count()
            if booked:
                raise Conflict(f"{locked.name} still has {booked} visit(s) booked; move them first.", field="chair")
        locked.active = active
        locked.save(update_fields=["active"])
        audit.record(EventType.CHAIR_CHANGED, actor=acting_user, subject=locked, new={"active": active})
    return locked


def do_set_chair_hours(chair: Chair, opens: time | None, closes: time | None, *, acting_user: User | None) -> Chair:
    """A chair's own hours inside the clinic's (both blank: the clinic's hours). Visits
    already booked are not moved."""
    _require_chairs(acting_user)
    if (opens is None) != (closes is None):
        raise InvalidInput("give both the chair's opening and closing time, or neither", field="chair_hours")
    try:
        clinic.clinic_hours().chair_window(opens, closes)
    except HoursError as exc:
        raise InvalidInput(str(exc), field="chair_hours") from None
    if opens is not None and closes is not None and not opens < closes:
        raise InvalidInput("the chair's closing time must be after its opening time", field="chair_hours")
    with transaction.atomic():
        locked = Chair.objects.select_for_update().get(pk=chair.pk)
        old = {"opens": str(locked.opens_at or ""), "closes": str(locked.closes_at or "")}
        locked.opens_at, locked.closes_at = opens, closes
        locked.save(update_fields=["opens_at", "closes_at"])
        audit.record(
            EventType.CHAIR_CHANGED,
            actor=acting_user,
            subject=locked,
            old=old,
            new={"opens": str(opens or ""), "closes": str(closes or "")},
        )
    return locked


def chair_is_free(chair: Chair, starts_at: datetime, ends_at: datetime, *, ignore: int | None = None) -> bool:
    """Whether no visit (scheduled or done; cancelled ones free the chair) overlaps
    [starts_at, ends_at) on ``chair``."""
    clash = Visit.objects.filter(chair=chair, starts_at__lt=ends_at, ends_at__gt=starts_at).exclude(status="cancelled")
    if ignore is not None:
        clash = clash.exclude(pk=ignore)
    return not clash.exists()


def find_free_chair(starts_at: datetime, ends_at: datetime, *, preferred: Chair | None = None) -> Chair | None:
    """The preferred chair if free, else the first free active chair, else None."""
    if preferred is not None and chair_is_free(preferred, starts_at, ends_at):
        return preferred
    for chair in Chair.objects.filter(active=True).order_by("name"):
        if chair_is_free(chair, starts_at, ends_at):
            return chair
    return None


def spacing_conflict(visit: Visit, starts_at: datetime, min_gap: timedelta) -> Visit | None:
    """Another scheduled visit of the same patient closer than ``min_gap``, if any."""
    return (
        Visit.objects.filter(
            patient_id=visit.patient_id,
            status="scheduled",
            starts_at__gt=starts_at - min_gap,
            starts_at__lt=starts_at + min_gap,
        )
        .exclude(pk=visit.pk)
        .first()
    )


def _check_open(visit: Visit) -> None:
    if visit.status != "scheduled":
        raise Conflict(f"This visit is {visit.status} and cannot be changed.", field="visit")
    if InfusionSession.objects.filter(visit=visit).exists():
        raise Conflict(
            "This visit's session has been opened at the chair; it cannot be moved or cancelled.", field="visit"
        )


def _check_reason(reason: str) -> str:
    reason = reason.strip()
    if not 3 <= len(reason) <= 200:
        raise InvalidInput("reason must be 3 to 200 characters", field="reason")
    return reason


def do_reschedule_visit(
    visit: Visit,
    starts_at: datetime,
    *,
    reason: str,
    chair: Chair | None = None,
    min_gap: timedelta | None = None,
    at: datetime | None = None,
    acting_user: User,
) -> Visit:
    """Move a scheduled visit, keeping its length; refuses a busy chair or a too-close infusion
    (the clinic's ``min_hours_between_infusions`` unless ``min_gap`` is given) [S41], a time
    in the past (before ``at``, default now), outside the clinic's or the chair's hours, or on
    a closed day."""
    require(acting_user, Action.MANAGE_SCHEDULE, "Only the front desk reschedules visits.")
    min_gap = min_gap or clinic.min_gap_between_doses()
    _check_open(visit)
    check_day(
        timezone.localdate(starts_at),
        earliest=timezone.localdate(visit.course.planned_at),
        horizon_from=timezone.localdate(),
        field="starts_at",
    )
    reason = _check_reason(reason)
    ends_at = starts_at + (visit.ends_at - visit.starts_at)
    chair = chair or visit.chair
    problem = booking_problem(
        clinic.clinic_hours(),
        timezone.localtime(starts_at),
        timezone.localtime(ends_at),
        now=at or timezone.now(),
        window=clinic.chair_window(chair),
        chair_name=chair.name,
    )
    if problem:
        raise InvalidInput(f"Not moved: {problem}.", field="starts_at")
    with transaction.atomic():
        Chair.objects.select_for_update().filter(pk=chair.pk).first()  # serialise bookings
        if not chair_is_free(chair, starts_at, ends_at, ignore=visit.pk):
            raise Conflict(f"{chair.name} is already booked at that time.", field="starts_at")
        other = spacing_conflict(visit, starts_at, min_gap)
        if other is not None:
            raise Conflict(
                f"Another infusion is booked {other.starts_at:%Y-%m-%d %H:%M}; infusions must be "
                f"at least {min_gap.total_seconds() / 3600:g} hours apart.",
                field="starts_at",
            )
        old = {"starts_at": visit.starts_at.isoformat(), "chair": visit.chair.name}
        visit.starts_at, visit.ends_at, visit.chair = starts_at, ends_at, chair
        visit.save(update_fields=["starts_at", "ends_at", "chair"])
        audit.record(
            EventType.VISIT_RESCHEDULED,
            actor=acting_user,
            patient=visit.patient,
            subject=visit,
            old=old,
            new={"starts_at": starts_at.isoformat(), "chair": chair.name, "reason": reason},
        )
    return visit


def do_move_visit_to_today(visit: Visit, *, reason: str, at: datetime, acting_user: User) -> Visit:
    """A prescriber gives a visit today instead of its booked day, with a documented reason:
    the visit moves to now (rounded up to 5 minutes) on its chair, or another free one, so
    the calendar and timeline show when the dose is given. The dosing-interval guard still
    applies when the session opens."""
    require(acting_user, Action.PLAN_COURSE, "Only a prescriber may move a visit to today.")
    reason = reason.strip()
    if not 10 <= len(reason) <= 200:
        raise InvalidInput("reason must be 10 to 200 characters: say why the dose is given today", field="reason")
    _check_open(visit)
    starts_at = (at + timedelta(minutes=4)).replace(second=0, microsecond=0)
    starts_at -= timedelta(minutes=starts_at.minute % 5)
    if timezone.localdate(visit.starts_at) == timezone.localdate(starts_at):
        raise Conflict("This visit is already booked for today.", field="visit")
    ends_at = starts_at + (visit.ends_at - visit.starts_at)
    with transaction.atomic():
        list(Chair.objects.select_for_update().filter(active=True))  # serialise bookings
        _refuse_too_soon(visit, starts_at)
        chair = visit.chair if chair_is_free(visit.chair, starts_at, ends_at, ignore=visit.pk) else None
        chair = chair or find_free_chair(starts_at, ends_at)
        if chair is None:
            raise Conflict("No chair is free now for this visit's length.", field="visit")
        old = {"starts_at": visit.starts_at.isoformat(), "chair": visit.chair.name}
        visit.starts_at, visit.ends_at, visit.chair = starts_at, ends_at, chair
        visit.save(update_fields=["starts_at", "ends_at", "chair"])
        audit.record(
            EventType.VISIT_MOVED_TO_TODAY,
            actor=acting_user,
            patient=visit.patient,
            subject=visit,
            old=old,
            new={"starts_at": starts_at.isoformat(), "chair": chair.name, "reason": reason},
            at=at,
        )
    return visit


def _refuse_too_soon(visit: Visit, starts_at: datetime) -> None:
    """Nothing moves when the dose could not be given then anyway (another session open,
    or too soon after the last dose): the booked slot is kept."""
    from ketamine_clinic.services.sessions import dose_timing_problem

    booked = visit.starts_at
    visit.starts_at = starts_at
    try:
        problem = dose_timing_problem(visit.patient_id, visit, at=starts_at, exclude_session=None)
    finally:
        visit.starts_at = booked
    if problem:
        raise Conflict(problem + " The visit stays as booked.", field="visit")


def do_cancel_visit(visit: Visit, *, reason: str, acting_user: User) -> Visit:
    require(acting_user, Action.MANAGE_SCHEDULE, "Only the front desk cancels visits.")
    _check_open(visit)
    reason = _check_reason(reason)
    with transaction.atomic():
        visit.status, visit.cancel_reason = move("visit", visit.status, "cancelled"), reason
        visit.save(update_fields=["status", "cancel_reason"])
        audit.record(
            EventType.VISIT_CANCELLED,
            actor=acting_user,
            patient=visit.patient,
            subject=visit,
            new={"reason": reason},
        )
    return visit


def do_check_in_visit(visit: Visit, *, at: datetime, acting_user: User) -> Visit:
    """The front desk marks the patient arrived for today's visit (once)."""
    require(acting_user, Action.MANAGE_SCHEDULE, "Only the front desk checks patients in.")
    with transaction.atomic():
        locked = Visit.objects.select_for_update().get(pk=visit.pk)
        if locked.status != "scheduled":
            raise Conflict(f"This visit is {locked.get_status_display()}; it cannot be checked in.", field="visit")
        if timezone.localdate(locked.starts_at) != timezone.localdate(at):
            raise Conflict(
                f"This visit is booked for {timezone.localtime(locked.starts_at):%A %d %B}; "
                "patients are checked in on the day of their visit.",
                field="visit",
            )
        if locked.arrived_at is not None:
            raise Conflict(f"Already checked in at {timezone.localtime(locked.arrived_at):%H:%M}.", field="visit")
        locked.arrived_at, locked.arrived_by = at, acting_user
        locked.save(update_fields=["arrived_at", "arrived_by"])
        audit.record(
            EventType.VISIT_ARRIVED,
            actor=acting_user,
            patient=locked.patient,
            subject=locked,
            new={"arrived_at": at.isoformat()},
            at=at,
        )
    return locked


def do_mark_no_show(visit: Visit, *, at: datetime, acting_user: User) -> Visit:
    """A booked visit whose time has come and whose patient has not arrived becomes a
    no-show (the chair is freed; the course's other visits stay booked)."""
    require(acting_user, Action.MANAGE_SCHEDULE, "Only the front desk marks a no-show.")
    with transaction.atomic():
        locked = Visit.objects.select_for_update().get(pk=visit.pk)
        _check_open(locked)
        if locked.arrived_at is not None:
            raise Conflict("The patient has checked in; this visit is not a no-show.", field="visit")
        if locked.starts_at > at:
            raise Conflict(
                f"This visit starts at {timezone.localtime(locked.starts_at):%A %d %B %H:%M}; "
                "a no-show is marked once its time has come.",
                field="visit",
            )
        locked.status = move("visit", locked.status, "no_show")
        locked.save(update_fields=["status"])
        audit.record(EventType.VISIT_NO_SHOW, actor=acting_user, patient=locked.patient, subject=locked, new={}, at=at)
    return locked


def do_add_to_waitlist(patient: Patient, *, wanted: str, at: datetime, acting_user: User) -> WaitlistEntry:
    """Put a patient on the waiting list for a sooner or a first slot, saying what they want."""
    require(acting_user, Action.MANAGE_SCHEDULE, "Only the front desk keeps the waiting list.")
    wanted = wanted.strip()
    if not 3 <= len(wanted) <= 200:
        raise InvalidInput("what the patient waits for must be 3 to 200 characters", field="wanted")
    with transaction.atomic():
        if WaitlistEntry.objects.filter(patient=patient, status="waiting").exists():
            raise Conflict("This patient is already on the waiting list.", field="patient")
        entry = WaitlistEntry.objects.create(patient=patient, wanted=wanted, added_by=acting_user, added_at=at)
        audit.record(
            EventType.WAITLIST_CHANGED,
            actor=acting_user,
            patient=patient,
            subject=entry,
            new={"status": "waiting", "wanted": wanted},
            at=at,
        )
    return entry


def do_resolve_waitlist_entry(entry: WaitlistEntry, *, status: str, at: datetime, acting_user: User) -> WaitlistEntry:
    """Take a patient off the waiting list: ``booked`` (a slot was found) or ``removed``."""
    require(acting_user, Action.MANAGE_SCHEDULE, "Only the front desk keeps the waiting list.")
    if status not in {"booked", "removed"}:
        raise InvalidInput("status must be booked or removed", field="status")
    with transaction.atomic():
        locked = WaitlistEntry.objects.select_for_update().get(pk=entry.pk)
        if locked.status != "waiting":
            raise Conflict(f"This entry is already {locked.status}.", field="status")
        locked.status, locked.resolved_at = status, at
        locked.save(update_fields=["status", "resolved_at"])
        audit.record(
            EventType.WAITLIST_CHANGED,
            actor=acting_user,
            patient=locked.patient,
            subject=locked,
            old={"status": "waiting"},
            new={"status": status},
            at=at,
        )
    return locked
