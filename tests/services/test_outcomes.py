"""services.outcomes: the Today board, the chart overview and the clinic's outcomes, in a
fixed number of queries however many patients are on the books."""

from __future__ import annotations

from datetime import time, timedelta

import time_machine
from django.test import TestCase
from django.utils import timezone

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
    assert one == three == 5  # open sessions (index kc_session_open), chairs, rows, alerts, decisions due


def test_the_today_board_shows_a_network_twelve_chairs_at_a_time(prescriber, nurse, crna) -> None:
    from ketamine_clinic.services import schedule

    for n in range(14):
        schedule.do_create_chair(f"Bay {n:02d}", acting_user=None)
    for n in range(14):  # one patient a chair, all at 09:00
        patient_in_the_chair(n + 1, prescriber=prescriber, nurse=nurse, crna=crna, start=time(9, 0))
    now = MONDAY + timedelta(hours=2)
    first = outcomes.clinic_day(MONDAY.date(), now)
    assert first["total"] == 14 and list(first["chair_pages"]) == [1, 2] and len(first["rows"]) == 12
    second = outcomes.clinic_day(MONDAY.date(), now, chair_page=2)
    assert len(second["rows"]) == 2 and second["chair_page"] == 2
    chairs = [r["visit"].chair_name for r in first["rows"] + second["rows"]]
    assert len(set(chairs)) == 14 and max(c for c in chairs[:12]) < min(chairs[12:])  # by name, no chair twice
    assert outcomes.clinic_day(MONDAY.date(), now, chair_page=99)["chair_page"] == 2  # past the end: the last
    one = {first["rows"][0]["visit"].patient_id}
    mine = outcomes.clinic_day(MONDAY.date(), now, patient_ids=one)
    assert mine["total"] == 1 and not list(mine["chair_pages"]) and len(mine["rows"]) == 1


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


def test_the_dashboard_reads_the_stored_summary_and_queues_one_refresh_when_stale(
    prescriber, nurse, crna, chairs
) -> None:
    from django_tasks_db.models import DBTaskResult

    from ketamine_clinic.services.jobs import run_due_jobs
    from ketamine_clinic.storage.models import ReadModel

    patient_in_the_chair(1, prescriber=prescriber, nurse=nurse, crna=crna, start=time(9, 0))
    with time_machine.travel(MONDAY, tick=False):
        first, at = outcomes.dashboard_summary(MONDAY)  # a new clinic: computed inline once
    assert at == MONDAY and first["courses"] == 1
    patient_in_the_chair(2, prescriber=prescriber, nurse=nurse, crna=crna, start=time(11, 0))
    fresh = MONDAY + outcomes.SUMMARY_REFRESH_AFTER / 2
    again, _ = outcomes.dashboard_summary(fresh)
    assert again["courses"] == 1  # the stored figures, not all of history again
    refreshes = DBTaskResult.objects.filter(task_path__endswith=".refresh_outcomes_summary")
    assert not refreshes.exists()
    later = MONDAY + outcomes.SUMMARY_REFRESH_AFTER * 2
    with TestCase.captureOnCommitCallbacks(execute=True):
        for _ in range(5):  # five staff open the stale dashboard: one refresh is queued
            stale, _ = outcomes.dashboard_summary(later)
    assert stale["courses"] == 1
    assert refreshes.count() == 1
    run_due_jobs()
    assert refreshes.get().status == "SUCCESSFUL"
    refreshed, _ = outcomes.dashboard_summary(timezone.now())
    assert refreshed["courses"] == 2 == ReadModel.objects.get(key="outcomes-summary").data["courses"]


def test_the_boards_decisions_and_forms_due_are_reused_a_few_seconds_and_dropped_on_a_save(
    transactional_db, course
) -> None:
    """The Today board's lists that move over days are kept by a server process for
    ``clinic.CACHE_SECONDS``; a visit or course saved through the same process is seen on
    the next view."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from ketamine_clinic.services import rems

    def reads() -> int:
        with CaptureQueriesContext(connection) as seen:
            outcomes._decisions_due(None), rems.forms_due(timezone.localdate())
        return len(seen.captured_queries)

    assert reads() >= 2
    assert reads() == 0
    visit = course.visits.order_by("starts_at").first()
    visit.save()  # any visit or course written through this process
    assert reads() == 1  # the decisions are read again; the forms are still this process's
    assert outcomes._decisions_due({course.patient_id}) == []  # a care-team view reads its own


def test_a_today_row_shows_the_visit_its_session_latest_order_and_vitals_due(running_session, verified_order) -> None:
    """The board's one statement answers what the ORM would: names, the session's status,
    the latest order that is not cancelled and when vital signs are next due."""
    from ketamine_clinic.services import clinic
    from ketamine_clinic.storage.models import Order, VitalSign

    visit = running_session.visit
    now = visit.starts_at + timedelta(minutes=30)
    day = outcomes.clinic_day(timezone.localdate(now), now)
    (row,) = [r for r in day["rows"] if r["visit"].pk == visit.pk]
    shown = row["visit"]
    assert (shown.patient_id, shown.patient_name, shown.chair_name) == (
        visit.patient_id,
        visit.patient.full_name,
        visit.chair.name,
    )
    assert shown.starts_at == visit.starts_at and shown.get_phase_display() == visit.get_phase_display()
    assert row["session"].pk == running_session.pk
    assert row["session"].get_status_display() == running_session.get_status_display() == "infusing"
    assert row["order"].pk == verified_order.pk and row["order"].verified_at == verified_order.verified_at
    last = VitalSign.objects.filter(session=running_session).latest("at").at
    assert row["vitals_due"] == last + timedelta(minutes=clinic.vitals_interval_min(dosing=True))
    assert row["overdue"] == (row["vitals_due"] <= now) and not row["other_day"]
    Order.objects.filter(pk=verified_order.pk).update(cancelled_reason="Entered in error")
    (row,) = [r for r in outcomes.clinic_day(timezone.localdate(now), now)["rows"] if r["visit"].pk == visit.pk]
    assert row["order"] is None
