"""services.outcomes: the Today board, the chart overview and the clinic's outcomes, in a
fixed number of queries however many patients are on the books."""

from __future__ import annotations

from datetime import time, timedelta

from ketamine_clinic.services import outcomes
from tests.conftest import MONDAY
from tests.support.clinic_day import count_queries, patient_in_the_chair


def test_the_today_board_costs_the_same_queries_for_one_patient_or_three(prescriber, nurse, crna, chairs) -> None:
    patient_in_the_chair(1, prescriber=prescriber, nurse=nurse, crna=crna, start=time(9, 0))
    one = count_queries(lambda: outcomes.clinic_day(MONDAY.date(), MONDAY + timedelta(hours=2)))
    patient_in_the_chair(2, prescriber=prescriber, nurse=nurse, crna=crna, start=time(11, 0))
    patient_in_the_chair(3, prescriber=prescriber, nurse=nurse, crna=crna, start=time(13, 0))
    board = outcomes.clinic_day(MONDAY.date(), MONDAY + timedelta(hours=2))
    assert len(board["rows"]) == 3
    three = count_queries(lambda: outcomes.clinic_day(MONDAY.date(), MONDAY + timedelta(hours=2)))
    assert one == three == 6


def test_the_outcomes_summary_costs_the_same_queries_for_one_course_or_three(prescriber, nurse, crna, chairs) -> None:
    patient_in_the_chair(1, prescriber=prescriber, nurse=nurse, crna=crna, start=time(9, 0))
    one = count_queries(outcomes.outcomes_summary)
    patient_in_the_chair(2, prescriber=prescriber, nurse=nurse, crna=crna, start=time(11, 0))
    patient_in_the_chair(3, prescriber=prescriber, nurse=nurse, crna=crna, start=time(13, 0))
    summary = outcomes.outcomes_summary()
    assert summary["courses"] == 3
    assert one == count_queries(outcomes.outcomes_summary) == 4


def test_the_chart_overview_is_a_fixed_number_of_queries(patient, running_session, django_assert_num_queries) -> None:
    with django_assert_num_queries(9):
        overview = outcomes.patient_overview(patient)
    assert overview.course is not None and [s.pk for s in overview.sessions.values()] == [running_session.pk]
