"""When the clinic books visits: its opening hours, open weekdays, closure dates, and a
chair's own hours inside them.

``ClinicHours`` is one clinic's calendar, validated on construction; ``booking_problem``
says in a sentence why a slot cannot be booked (or ``None``). The core never reads the
clock: callers pass ``now`` [S1].

Errors::

    HoursError (ValueError)   hours that cannot be (closing before opening, no open day,
                              a chair's hours outside the clinic's); names the field
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

__all__ = ["DAY_NAMES", "DEFAULT_HOURS", "ClinicHours", "HoursError", "booking_problem"]

DAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


class HoursError(ValueError):
    code = "hours"

    def __init__(self, message: str, field: str) -> None:
        super().__init__(message)
        self.field = field


@dataclass(frozen=True)
class ClinicHours:
    """Opening and closing time (clinic time zone), open weekdays (0 = Monday) and closure
    dates. A visit must start and end within the hours of an open, non-closed day."""

    opens: time = time(8, 0)
    closes: time = time(17, 0)
    days: frozenset[int] = frozenset({0, 1, 2, 3, 4})
    closures: frozenset[date] = field(default_factory=frozenset)

    def __post_init__(self) -> None:
        if not self.opens < self.closes:
            raise HoursError(
                f"closing time ({self.closes:%H:%M}) must be after opening time ({self.opens:%H:%M})", "closes"
            )
        if not self.days or not set(self.days) <= set(range(7)):
            raise HoursError("at least one open weekday is needed", "days")

    def is_open_on(self, day: date) -> bool:
        return day.weekday() in self.days and day not in self.closures

    def next_open_day(self, day: date) -> date:
        """``day`` or the first open day after it (within a year)."""
        for offset in range(367):
            candidate = day + timedelta(days=offset)
            if self.is_open_on(candidate):
                return candidate
        raise HoursError("no open day within a year: check the open weekdays and closures", "days")

    def day_names(self) -> str:
        return ", ".join(DAY_NAMES[d] for d in sorted(self.days))

    def chair_window(self, chair_opens: time | None, chair_closes: time | None) -> tuple[time, time]:
        """A chair's hours: its own when set (inside the clinic's), else the clinic's."""
        opens = max(chair_opens or self.opens, self.opens)
        closes = min(chair_closes or self.closes, self.closes)
        if not opens < closes:
            raise HoursError("the chair's hours must lie inside the clinic's hours", "chair")
        return opens, closes


DEFAULT_HOURS = ClinicHours()


def booking_problem(
    hours: ClinicHours,
    starts: datetime,
    ends: datetime,
    *,
    now: datetime,
    window: tuple[time, time] | None = None,
    chair_name: str = "",
) -> str | None:
    """Why a visit from ``starts`` to ``ends`` (local, aware) cannot be booked, or ``None``:
    in the past, a closed weekday, a closure date, or outside the clinic's (or the chair's)
    hours [S1]."""
    day = starts.date()
    if starts < now:
        return f"{starts:%A %d %B %H:%M} is in the past"
    if day.weekday() not in hours.days:
        return f"the clinic is closed on {DAY_NAMES[day.weekday()]}s (open {hours.day_names()})"
    if day in hours.closures:
        return f"the clinic is closed on {day:%A %d %B %Y}"
    opens, closes = window or (hours.opens, hours.closes)
    whose = f"{chair_name} is" if window and chair_name else "the clinic is"
    if starts.time() < opens or ends.date() != day or ends.time() > closes:
        return f"{starts:%H:%M}–{ends:%H:%M} is outside the hours {whose} open ({opens:%H:%M}–{closes:%H:%M})"
    return None
