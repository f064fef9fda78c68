"""Clinic reports: monthly outcomes as a page, PDF and CSV, and the recall list."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

import time_machine

from ketamine_clinic.services import courses, reports, schedule, sessions
from ketamine_clinic.storage.models import AuditEvent, EventType
from tests.conftest import MONDAY
from tests.services.test_workflow import _complete
from tests.web.test_documents import pdf_text


def _six_done(course, prescriber, crna, nurse, patient, scores=(14, 12, 10, 8, 7, 6)):  # type: ignore[no-untyped-def]
    for visit, score in zip(course.visits.order_by("starts_at"), scores, strict=True):
        _complete(visit, prescriber, crna, nurse, patient, score)


def test_a_course_that_responded_counts_in_the_month_of_its_first_infusion(
    course, prescriber, crna, nurse, patient
) -> None:
    _six_done(course, prescriber, crna, nurse, patient)
    first = course.visits.order_by("starts_at").first()
    sessions.do_record_side_effect(
        first.session, "nausea_vomiting", "mild", at=first.starts_at + timedelta(minutes=50), acting_user=nurse
    )
    rows = reports.monthly_outcomes(since=MONDAY.date().replace(day=1) - timedelta(days=40), until=MONDAY.date())
    november = next(r for r in rows if r.month == "2026-11")
    assert (november.started, november.completed_induction, november.evaluated) == (1, 1, 1)
    assert (november.responded, november.remitted) == (1, 0)  # 16 -> 6: a response, not remission
    # 16 x 0.5 = 8 is first reached by the PHQ-9 before the fourth infusion (day 7 after the first)
    assert 6.9 < november.days_to_response[0] < 7 and november.median_days_to_response == 7.0
    assert november.infusions == 6 and november.effect_rate == round(100 / 6, 1)
    assert all(r.started == 0 for r in rows if r.month != "2026-11")


def test_the_report_page_pdf_and_csv_agree(client, course, prescriber, crna, nurse, patient, front_desk) -> None:
    _six_done(course, prescriber, crna, nurse, patient)
    with time_machine.travel(MONDAY + timedelta(days=20), tick=False):
        client.force_login(front_desk)
        page = client.get("/clinic/reports/?months=3").content.decode()
        assert "2026-11" in page and "1 (100.0 %)" in page
        rows = list(csv.reader(io.StringIO(client.get("/clinic/reports/outcomes.csv?months=3").content.decode())))
        text = pdf_text(client.get("/clinic/reports/outcomes.pdf?months=3").content)
        bad = client.get("/clinic/reports/?months=500")
    assert rows[0][:3] == ["month", "courses started", "induction completed"]
    november = next(r for r in rows if r[0] == "2026-11")
    assert november[1:9] == ["1", "1", "100.0", "1", "1", "100.0", "0", "0.0"]
    assert rows[-1][0] == "all"
    assert "Monthly outcomes" in text and "2026-11" in text and "page 1 of" in text
    assert bad.status_code == 200 and b"months must be from 1 to 36" in bad.content
    kinds = set(
        AuditEvent.objects.filter(event_type=EventType.DOCUMENT_GENERATED).values_list("new_values__kind", flat=True)
    )
    assert kinds == {"outcomes_csv", "outcomes_pdf"}


def test_the_recall_list_shows_maintenance_patients_past_their_interval(
    client, course, prescriber, crna, nurse, patient, front_desk
) -> None:
    _six_done(course, prescriber, crna, nurse, patient)
    courses.do_decide_induction(
        course, decision="maintenance", at=MONDAY + timedelta(days=12), acting_user=prescriber, next_visit_weeks=4
    )
    course.refresh_from_db()
    last = course.visits.filter(status="done").order_by("-starts_at").first().starts_at.date()
    booked = course.visits.filter(status="scheduled", phase="maintenance")
    assert booked.exists()
    for visit in booked:  # the booster booked at the decision is cancelled: the patient is now due for recall
        schedule.do_cancel_visit(visit, reason="patient travelling", acting_user=front_desk)
    assert reports.recall_list(today=last + timedelta(weeks=4)) == []
    overdue = reports.recall_list(today=last + timedelta(weeks=4, days=3))
    assert [(r.course.pk, r.overdue_days, r.interval_weeks) for r in overdue] == [(course.pk, 3, 4)]
    with time_machine.travel(MONDAY + timedelta(days=50), tick=False):
        client.force_login(front_desk)
        page = client.get("/clinic/reports/recall/").content.decode()
    assert "Pat Example" in page and "4 weeks" in page
    courses.do_book_maintenance_visit(course, day=last + timedelta(weeks=5), acting_user=front_desk, at=MONDAY)
    assert reports.recall_list(today=last + timedelta(weeks=4, days=3)) == []
