"""domain.hours: the clinic's booking calendar and the one sentence that says why a slot
cannot be booked."""

from __future__ import annotations

from datetime import UTC, date, datetime, time

import pytest

from ketamine_clinic.domain.hours import ClinicHours, HoursError, booking_problem

NOW = datetime(2027, 3, 1, 7, 0, tzinfo=UTC)  # a Monday
HOURS = ClinicHours(days=frozenset({0, 1, 2, 3, 4}), closures=frozenset({date(2027, 3, 3)}))


def _at(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2027, 3, day, hour, minute, tzinfo=UTC)


@pytest.mark.parametrize(
    ("starts", "ends", "expected"),
    [
        (_at(1, 9), _at(1, 11), None),
        (_at(1, 6), _at(1, 8), "is in the past"),
        (_at(6, 9), _at(6, 11), "closed on Saturdays (open Monday, Tuesday, Wednesday, Thursday, Friday)"),
        (_at(3, 9), _at(3, 11), "closed on Wednesday 03 March 2027"),
        (_at(2, 16), _at(2, 18), "16:00–18:00 is outside the hours the clinic is open (08:00–17:00)"),
        (_at(2, 7, 30), _at(2, 9, 30), "outside the hours"),
        (_at(2, 15), _at(2, 17), None),  # ending exactly at closing fits
    ],
)
def test_booking_problem_names_the_reason(starts, ends, expected) -> None:  # type: ignore[no-untyped-def]
    found = booking_problem(HOURS, starts, ends, now=NOW)
    assert found is None if expected is None else expected in (found or "")


def test_a_chairs_window_is_kept_and_named() -> None:
    window = HOURS.chair_window(time(8, 0), time(12, 0))
    assert window == (time(8, 0), time(12, 0))
    found = booking_problem(HOURS, _at(2, 13), _at(2, 15), now=NOW, window=window, chair_name="Chair 1")
    assert found == "13:00–15:00 is outside the hours Chair 1 is open (08:00–12:00)"
    assert HOURS.chair_window(None, None) == (time(8, 0), time(17, 0))
    assert HOURS.chair_window(time(6, 0), time(20, 0)) == (time(8, 0), time(17, 0))  # clipped to the clinic's
    with pytest.raises(HoursError):
        HOURS.chair_window(time(18, 0), time(19, 0))


def test_hours_that_cannot_be_are_refused_naming_the_field() -> None:
    with pytest.raises(HoursError) as error:
        ClinicHours(opens=time(17, 0), closes=time(8, 0))
    assert error.value.field == "closes"
    with pytest.raises(HoursError) as error:
        ClinicHours(days=frozenset())
    assert error.value.field == "days"
    with pytest.raises(HoursError):
        ClinicHours(days=frozenset({7}))


def test_the_next_open_day_skips_weekends_and_closures() -> None:
    assert HOURS.next_open_day(date(2027, 3, 6)) == date(2027, 3, 8)  # Saturday -> Monday
    assert HOURS.next_open_day(date(2027, 3, 3)) == date(2027, 3, 4)  # closure -> Thursday
    assert HOURS.is_open_on(date(2027, 3, 1)) and not HOURS.is_open_on(date(2027, 3, 3))
