"""Small helpers shared by the services."""

from __future__ import annotations

from datetime import date, timedelta

from ketamine_clinic.domain.policy import Action, can
from ketamine_clinic.services.errors import Conflict, InvalidInput, NotAllowed
from ketamine_clinic.storage.models import User

__all__ = ["check_day", "move", "require"]

#: How far ahead anything may be booked: a course, a booster, a moved visit.
BOOKING_HORIZON_DAYS = 730


def require(user: User, action: Action, message: str) -> None:
    """Raise ``NotAllowed(message)`` unless ``user`` is active and may ``action``."""
    if not user.is_active or not can(user.role, action):
        raise NotAllowed(message)


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
