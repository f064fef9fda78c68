"""Every page with patient data leaves exactly one audit row; htmx fragments and polls none."""

from __future__ import annotations

import pytest

from ketamine_clinic.storage.models import AuditEvent, EventType

HTMX = {"HTTP_HX_REQUEST": "true"}


def _count() -> int:
    return AuditEvent.objects.count()


@pytest.mark.parametrize(
    ("role", "url", "event"),
    [
        ("rn", "/clinic/alerts/", EventType.PAGE_VIEWED),
        ("rn", "/clinic/", EventType.PAGE_VIEWED),
        ("prescriber", "/clinic/patients/?q=Example", EventType.PAGE_VIEWED),
        ("front_desk", "/desk/", EventType.PAGE_VIEWED),
        ("patient", "/me/", EventType.CHART_VIEWED),
        ("admin", "/admin-area/audit/", EventType.PAGE_VIEWED),
        ("auditor", "/admin-area/audit/", EventType.PAGE_VIEWED),
    ],
)
def test_each_page_the_review_found_unaudited_now_leaves_one_row(client, personas, course, role, url, event) -> None:
    user = personas[role]
    client.force_login(user)
    before = _count()
    assert client.get(url).status_code == 200
    assert _count() == before + 1
    row = AuditEvent.objects.order_by("-id").first()
    assert (row.event_type, row.actor_id) == (event, user.pk)


def test_a_list_row_names_the_patients_shown_but_not_the_search_typed(client, prescriber, patient, stranger) -> None:
    client.force_login(prescriber)
    client.get("/clinic/patients/?q=Strang")
    row = AuditEvent.objects.order_by("-id").first()
    assert row.new_values["patient_ids"] == [stranger.pk]
    assert "Strang" not in str(row.new_values)


def test_the_calendar_row_lists_the_weeks_patients(client, front_desk, course) -> None:
    client.force_login(front_desk)
    client.get("/desk/?week=2026-11-02")
    row = AuditEvent.objects.order_by("-id").first()
    assert row.new_values["page"] == "desk-home" and course.patient_id in row.new_values["patient_ids"]


def test_a_chart_page_leaves_one_chart_viewed_row(client, nurse, running_session) -> None:
    client.force_login(nurse)
    before = _count()
    assert client.get(f"/clinic/sessions/{running_session.pk}/").status_code == 200
    assert _count() == before + 1
    row = AuditEvent.objects.order_by("-id").first()
    assert (row.event_type, row.patient_id, row.subject_type) == (
        EventType.CHART_VIEWED,
        running_session.patient_id,
        "InfusionSession",
    )


def test_polls_and_fragments_leave_no_row(client, prescriber, nurse, running_session, course) -> None:
    client.force_login(nurse)
    before = _count()
    for _ in range(3):
        assert client.get(f"/clinic/sessions/{running_session.pk}/?part=chart", **HTMX).status_code == 200
    assert _count() == before
    client.force_login(prescriber)
    before = _count()
    visit = course.visits.order_by("starts_at")[1]
    for dose in ("0.4", "0.45", "0.5"):
        response = client.get(f"/clinic/visits/{visit.pk}/order/?preview=1&dose_mg_per_kg={dose}", **HTMX)
        assert response.status_code == 200
    assert client.get("/clinic/patients/?q=Ex", **HTMX).status_code == 200
    assert _count() == before


def test_account_pages_are_not_patient_reads(client, admin) -> None:
    client.force_login(admin)
    before = _count()
    for url in ("/admin-area/", "/admin-area/users/", "/admin-area/settings/"):
        assert client.get(url).status_code == 200
    assert _count() == before


def test_the_booster_page_names_the_maintenance_patients_it_lists(client, front_desk, course) -> None:
    course.status = "maintenance"
    course.save(update_fields=["status"])
    client.force_login(front_desk)
    assert client.get("/desk/boosters/").status_code == 200
    row = AuditEvent.objects.order_by("-id").first()
    assert (row.event_type, row.new_values["patient_ids"]) == (EventType.PAGE_VIEWED, [course.patient_id])


def test_a_patients_questionnaire_page_is_a_read_of_their_own_record(client, patient_user, patient) -> None:
    client.force_login(patient_user)
    assert client.get("/me/questionnaires/phq9/").status_code == 200
    row = AuditEvent.objects.order_by("-id").first()
    assert row.new_values["patient_ids"] == [patient.pk] and row.actor == patient_user
