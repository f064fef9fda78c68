"""The patient portal: appointments with requests to the front desk, the plan, after-care,
the explanation pages, and progress in plain words."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine

from ketamine_clinic.services import portal
from ketamine_clinic.services.errors import Conflict, NotAllowed
from ketamine_clinic.storage.models import AuditEvent, EventType, VisitRequest
from ketamine_clinic.web.views.portal import LEARN
from tests.conftest import MONDAY


@pytest.fixture
def before_course(course):  # type: ignore[no-untyped-def]
    with time_machine.travel(MONDAY - timedelta(days=2), tick=False):
        yield course


def test_a_patient_asks_to_move_a_visit_and_the_desk_sees_and_closes_it(
    client, before_course, patient_user, front_desk
) -> None:
    visit = before_course.visits.order_by("starts_at")[1]
    client.force_login(patient_user)
    page = client.get("/me/appointments/")
    assert page.status_code == 200 and b"Ask to move this visit" in page.content
    client.post("/me/appointments/", {"visit": visit.pk, "kind": "reschedule", "note": "away that week"})
    row = VisitRequest.objects.get()
    assert (row.visit_id, row.kind, row.note) == (visit.pk, "reschedule", "away that week")
    assert b"You asked to reschedule this visit" in client.get("/me/appointments/").content
    client.force_login(front_desk)
    desk = client.get("/desk/requests/")
    assert b"away that week" in desk.content and b"Pat Example" in desk.content
    client.post("/desk/requests/", {"request": row.pk})
    row.refresh_from_db()
    assert row.handled_by == front_desk
    assert AuditEvent.objects.filter(event_type=EventType.VISIT_CHANGE_REQUESTED).count() == 2


def test_a_patient_cannot_ask_about_someone_elses_visit(client, before_course, stranger_user, stranger) -> None:
    visit = before_course.visits.first()
    client.force_login(stranger_user)
    assert client.post("/me/appointments/", {"visit": visit.pk, "kind": "cancel"}).status_code == 404
    with pytest.raises(NotAllowed):
        portal.do_request_visit_change(visit, kind="cancel", note="", at=MONDAY, acting_user=stranger_user)
    assert not VisitRequest.objects.exists()


def test_one_open_request_per_visit_and_none_for_a_past_visit(before_course, patient_user) -> None:
    first, last = before_course.visits.order_by("starts_at")[0], before_course.visits.order_by("starts_at").last()
    at = MONDAY - timedelta(days=2)
    portal.do_request_visit_change(last, kind="cancel", note="", at=at, acting_user=patient_user)
    with pytest.raises(Conflict, match="already asked"):
        portal.do_request_visit_change(last, kind="reschedule", note="", at=at, acting_user=patient_user)
    with pytest.raises(Conflict, match="upcoming"):
        portal.do_request_visit_change(first, kind="cancel", note="", at=first.starts_at, acting_user=patient_user)


def test_the_overview_explains_the_scores_in_words(client, before_course, patient_user) -> None:
    client.force_login(patient_user)
    page = client.get("/me/").content.decode()
    assert "When your course started your score was 16." in page
    assert "runs from 0 to 27" in page and "50 % or more" in page and "below 5" in page


def test_the_plan_and_after_care_pages_show_the_patients_own_course(client, before_course, patient_user) -> None:
    client.force_login(patient_user)
    plan = client.get("/me/plan/").content.decode()
    assert "IV racemic ketamine for depression" in plan and "0 of 6 infusions" in plan
    assert "every 2 to 6 weeks" in plan
    care = client.get("/me/aftercare/").content.decode()
    assert "Do not drive" in care and "988" in care


def test_every_explanation_page_opens_and_quotes_the_clinics_settings(client, patient_user, patient) -> None:
    client.force_login(patient_user)
    index = client.get("/me/learn/").content.decode()
    for slug, title in LEARN:
        assert f"/me/learn/{slug}/" in index
        page = client.get(f"/me/learn/{slug}/")
        assert page.status_code == 200 and title.replace("'", "&#x27;") in page.content.decode(), slug
    course = client.get("/me/learn/the-course/").content.decode()
    assert "series of 6 infusions" in course and "every 2 to 6 weeks" in course
    effects = client.get("/me/learn/side-effects/").content.decode()
    for effect in ("dream-like", "Double", "Confusion", "Jerky", "sick", "appetite", "sleeping", "blood pressure",
                   "Bladder", "Liver", "Psychosis"):  # fmt: skip
        assert effect in effects, effect
    assert client.get("/me/learn/no-such-page/").status_code == 404


def test_the_admin_sets_identifiers_and_reminder_times_and_a_bad_npi_is_named(client, admin, prescriber) -> None:
    from ketamine_clinic.services import documents

    client.force_login(admin)
    form = {
        "address": "1 Main St", "npi": "1234567893", "tax_id": "123456789", "place_of_service": "11",
        "sender_name": "Riverside Health", "reminder_hours_before": "72, 3", "previsit_hours_before": "24",
        "checkin_hour_next_day": "9", "checkin_valid_hours": "24", "email_enabled": "on",
        f"npi_{prescriber.pk}": "1987654321",
    }  # fmt: skip
    assert client.post("/admin-area/practice/", form).status_code == 302
    row = documents.practice_settings()
    assert (row.reminder_hours_before, row.previsit_hours_before, row.sms_enabled) == ([72, 3], 24, False)
    assert row.prescriber_npis == {str(prescriber.pk): "1987654321"}
    bad = client.post("/admin-area/practice/", {**form, "npi": "12"})
    assert bad.status_code == 422 and b"npi must be 10 digits" in bad.content
    assert documents.practice_settings().npi == "1234567893"
