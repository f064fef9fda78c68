"""services.protocols: the protocols the clinic runs and the calendar their visits land on."""

from __future__ import annotations

from datetime import date

import pytest

from ketamine_clinic.services import clinic, protocols
from ketamine_clinic.services.errors import InvalidInput


def test_an_iv_induction_is_six_visits_on_clinic_days_at_most_three_a_week(db) -> None:
    plan = protocols.plan_visits("iv_racemic_depression", date(2026, 11, 7))  # a Saturday
    days = [v.date for v in plan.visits]
    assert len(days) == 6 and days[0] == date(2026, 11, 9)  # the next Monday
    assert all(d.weekday() in clinic.clinic_hours().days for d in days)
    weeks = [d.isocalendar()[1] for d in days]
    assert max(weeks.count(w) for w in set(weeks)) <= 3
    assert plan.dose_mg_per_kg == 0.5


def test_a_nasal_course_is_not_dosed_by_weight(db) -> None:
    code = next(p.code for p in protocols.clinic_protocols() if protocols.is_nasal_protocol(p.code))
    assert protocols.plan_visits(code, date(2026, 11, 9)).dose_mg_per_kg == 0.0


def test_an_unknown_protocol_is_refused_naming_the_choices(db) -> None:
    with pytest.raises(InvalidInput) as exc:
        protocols.plan_visits("iv_everything", date(2026, 11, 9))
    assert exc.value.field == "protocol" and "iv_racemic_depression" in exc.value.message


def test_the_next_clinic_day_skips_the_weekend(db) -> None:  # the clinic's days are a setting
    assert protocols.next_clinic_day(date(2026, 11, 8)) == date(2026, 11, 9)
    assert protocols.next_clinic_day(date(2026, 11, 10)) == date(2026, 11, 10)


def test_every_protocol_has_a_name_a_summary_and_sources() -> None:
    assert len(protocols.protocol_choices()) == len(protocols.protocol_summaries()) >= 4
    assert all(s["name"] and s["summary"] and s["sources"] for s in protocols.protocol_summaries())
