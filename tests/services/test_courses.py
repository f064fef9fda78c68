"""services.courses: planning, ending and judging a course."""

from __future__ import annotations

from datetime import time, timedelta

import pytest

from ketamine_clinic.services import courses
from ketamine_clinic.services.errors import Conflict, InvalidInput, NotAllowed
from tests.conftest import MONDAY


def test_a_planned_course_books_every_induction_visit_on_a_chair(course) -> None:
    visits = list(course.visits.order_by("starts_at"))
    assert len(visits) == 6 and all(v.chair_id for v in visits)
    assert visits[0].starts_at.time() == time(9, 0) and visits[0].starts_at.date() == MONDAY.date()
    assert courses.done_induction_visits(course) == 0 and not courses.decision_due(course)


def test_a_second_active_course_is_refused(course, prescriber, patient) -> None:
    with pytest.raises(Conflict):
        courses.do_plan_course(
            patient,
            protocol="iv_racemic_depression",
            start_date=(MONDAY + timedelta(days=21)).date(),
            at=MONDAY,
            acting_user=prescriber,
        )


def test_only_a_prescriber_plans_or_ends_a_course(course, nurse) -> None:
    with pytest.raises(NotAllowed):
        courses.do_end_course(course, outcome="cancelled", reason="Patient moved away", at=MONDAY, acting_user=nurse)


def test_ending_a_course_cancels_its_open_visits_with_the_reason(course, prescriber) -> None:
    with pytest.raises(InvalidInput) as short:
        courses.do_end_course(course, outcome="cancelled", reason="moved", at=MONDAY, acting_user=prescriber)
    assert short.value.field == "reason"
    ended = courses.do_end_course(
        course, outcome="cancelled", reason="Patient moved to another city", at=MONDAY, acting_user=prescriber
    )
    assert ended.status == "cancelled"
    assert set(course.visits.values_list("status", flat=True)) == {"cancelled"}
    with pytest.raises(Conflict, match="already"):
        courses.do_end_course(
            course, outcome="completed", reason="Patient moved to another city", at=MONDAY, acting_user=prescriber
        )


def test_the_induction_decision_lists_its_choices(course) -> None:
    assert {code for code, _ in courses.induction_decision_choices()} == set(courses.INDUCTION_DECISIONS)
    assert courses.course_scores(course) == []


def test_remission_by_total_still_warns_when_phq9_item_9_is_positive(course) -> None:
    from types import SimpleNamespace

    later = course.planned_at + timedelta(days=14)
    quiet = SimpleNamespace(instrument="phq9", total=3, at=later, answers=[1, 1, 1, 0, 0, 0, 0, 0, 0])
    item9 = SimpleNamespace(instrument="phq9", total=3, at=later, answers=[1, 1, 0, 0, 0, 0, 0, 0, 1])
    assert course.baseline_instrument == "phq9" and course.baseline_score > 10
    calm = courses.response_status(course, [quiet])
    warned = courses.response_status(course, [item9])
    assert calm.category == warned.category == "remission"  # the cited definition is by total score
    assert "item 9" not in calm.explanation
    assert "item 9 (thoughts of self-harm)" in warned.explanation and "suicide-risk pathway" in warned.explanation
