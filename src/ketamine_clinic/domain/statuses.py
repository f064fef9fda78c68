"""Statuses and the moves between them, owned here so services ask instead of comparing
strings. ``check_move(kind, old, new)`` raises ``StatusError`` (a ``ValueError``) naming
the record and both statuses for a move the table does not allow [S1].

A chair-side session goes checklist -> ready -> running <-> paused -> observing ->
discharged; nasal devices go ready/running -> observing; any open session may be closed
without discharge (not while the pump runs). A course goes induction -> decision due ->
maintenance or referred (or back to induction when extended) and ends completed or
cancelled. A visit is scheduled until done, cancelled or marked a no-show. An alert is open until
acknowledged or closed. A patient record is active until merged into another (a
duplicate registration); a merged record never comes back.
"""

from __future__ import annotations

from types import MappingProxyType

__all__ = ["STATUSES", "TRANSITIONS", "StatusError", "can_move", "check_move"]


class StatusError(ValueError):
    code = "status"

    def __init__(self, kind: str, old: str, new: str) -> None:
        super().__init__(f"a {kind} cannot go from {old.replace('_', ' ')} to {new.replace('_', ' ')}")
        self.field = "status"


_SESSION = {
    "checklist": {"ready", "closed"},
    "ready": {"running", "observing", "closed"},
    "running": {"running", "paused", "observing"},
    "paused": {"running", "observing", "closed"},
    "observing": {"discharged", "closed"},
    "discharged": set(),
    "closed": set(),
}
_COURSE = {
    "induction": {"induction", "decision_due", "maintenance", "referred", "completed", "cancelled"},
    "decision_due": {"induction", "maintenance", "referred", "completed", "cancelled"},
    "maintenance": {"maintenance", "completed", "cancelled"},
    "referred": set(),
    "completed": set(),
    "cancelled": set(),
}
_VISIT = {"scheduled": {"done", "cancelled", "no_show"}, "done": set(), "cancelled": set(), "no_show": set()}
_ALERT = {"open": {"acknowledged", "closed"}, "acknowledged": set(), "closed": set()}
_PATIENT = {"active": {"merged"}, "merged": set()}

#: kind -> status -> the statuses it may move to.
TRANSITIONS = MappingProxyType(
    {
        "session": MappingProxyType({k: frozenset(v) for k, v in _SESSION.items()}),
        "course": MappingProxyType({k: frozenset(v) for k, v in _COURSE.items()}),
        "visit": MappingProxyType({k: frozenset(v) for k, v in _VISIT.items()}),
        "alert": MappingProxyType({k: frozenset(v) for k, v in _ALERT.items()}),
        "patient": MappingProxyType({k: frozenset(v) for k, v in _PATIENT.items()}),
    }
)
STATUSES = MappingProxyType({kind: tuple(table) for kind, table in TRANSITIONS.items()})


def can_move(kind: str, old: str, new: str) -> bool:
    """Whether a ``kind`` record may go from ``old`` to ``new`` [S1]."""
    return new in TRANSITIONS[kind].get(old, frozenset())


def check_move(kind: str, old: str, new: str) -> None:
    """Raise ``StatusError`` unless the move is allowed [S1]."""
    if not can_move(kind, old, new):
        raise StatusError(kind, old, new)
