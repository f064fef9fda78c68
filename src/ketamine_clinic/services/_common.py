"""Small helpers shared by the services."""

from __future__ import annotations

from datetime import date, timedelta

from ketamine_clinic.domain.policy import Action, can
from ketamine_clinic.services.errors import Conflict, InvalidInput, NotAllowed, NotFound, PatientMerged
from ketamine_clinic.storage.models import Patient, User

__all__ = ["check_day", "lock_active_patient", "move", "require"]

#: How far ahead anything may be booked: a course, a booster, a moved visit.
BOOKING_HORIZON_DAYS = 730


def require(user: User, action: Action, message: str) -> None:
    """Raise ``NotAllowed(message)`` unless ``user`` is active and may ``action``."""
    if not user.is_active or not can(user.role, action):
        raise NotAllowed(message)


def lock_active_patient(patient_id: int) -> Patient:
    """Lock the patient's row for the caller's transaction and return it; ``PatientMerged``
    when the record was merged into another (a page or request that read the duplicate
    before the merge must not add to it: a score, alert or course there would be invisible
    on the kept record, and a suicide-risk alert would not block its doses)."""
    row = Patient.objects.select_for_update().filter(pk=patient_id).first()
    if row is None:
        raise NotFound("No such patient.")
    if row.status != "active" and row.merged_into_id is not None:
        raise PatientMerged(row.merged_into_id)
    return row


def check_day(day: date, *, earliest: date, field: str, horizon_from: date | None = None) -> date:
    """``day`` between ``earliest`` and two years after ``horizon_from`` (default ``earliest``);
    anything else (year 1, 1899, 9999) is an ``InvalidInput`` naming the field and range."""
    latest = (horizon_from or earliest) + timedelta(days=BOOKING_HORIZON_DAYS)
    if not earliest <= day <= latest:
        raise InvalidInput(
            f"{field.replace('_', ' ')} must be from {earliest.isoformat()} to {latest.isoformat()}", field=field
        )
    return day


def move(kind: str, old: str, new: str) -> str:
    """``new`` when the domain allows a ``kind`` to go from ``old`` to it, else ``Conflict``."""
    from ketamine_clinic.domain.statuses import StatusError, check_move

    try:
        check_move(kind, old, new)
    except StatusError as exc:
        raise Conflict(str(exc).capitalize() + ".", field="status") from None
    return new
