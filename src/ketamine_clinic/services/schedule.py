"""Chairs and visits: booking, rescheduling and cancelling, never double-booking a chair.

A chair is busy from a visit's start to its end (the infusion plus observation); two
scheduled visits may not overlap on one chair, and one patient may not have two
infusions closer than the protocol's minimum spacing.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone

from ketamine_clinic.domain.policy import Action, can
from ketamine_clinic.services import audit, clinic
from ketamine_clinic.services._common import check_day, move, require
from ketamine_clinic.services.errors import Conflict, InvalidInput, NotAllowed
from ketamine_clinic.storage.models import Chair, EventType, InfusionSession, User, Visit

__all__ = [
    "chair_is_free",
    "do_cancel_visit",
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
    acting_user: User,
) -> Visit:
    """Move a scheduled visit, keeping its length; refuses a busy chair or a too-close infusion
    (the clinic's ``min_hours_between_infusions`` unless ``min_gap`` is given) [S41]."""
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
