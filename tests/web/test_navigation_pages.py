"""Navigation: the patient banner on patient pages, the global search (access-checked and
on the page's audit row), each role's task queue, the front desk's demographics edit
(audited), and human labels instead of codes."""

from __future__ import annotations

from datetime import timedelta

from ketamine_clinic.services import orders
from ketamine_clinic.storage.models import AuditEvent, EventType, Patient
from tests.conftest import MONDAY


def test_every_patient_page_shows_the_banner(client, course, prescriber) -> None:
    client.force_login(prescriber)
    for path in (f"/clinic/patients/{course.patient_id}/", f"/clinic/courses/{course.pk}/decision/"):
        page = client.get(path).content.decode()
        assert 'class="patient-banner"' in page, path
        assert "70.0 kg" in page and "IV racemic ketamine for depression · induction · 0 of 6 visits done" in page
        assert "Allergies: not recorded" in page and "no open alerts" in page


def test_the_banner_is_not_shown_to_the_front_desk(client, course, front_desk) -> None:
    client.force_login(front_desk)
    page = client.get(f"/desk/patients/{course.patient_id}/").content.decode()
    assert 'class="patient-banner"' not in page and "0 of 6 visits" not in page


def test_search_finds_by_name_mrn_and_birth_date_and_is_audited(client, patient, stranger, nurse) -> None:
    client.force_login(nurse)
    for query in (patient.family_name, patient.mrn, patient.birth_date.isoformat()):
        page = client.get("/search/", {"q": query}).content.decode()
        assert f"/clinic/patients/{patient.pk}/" in page, query
    row = AuditEvent.objects.filter(event_type=EventType.PAGE_VIEWED).order_by("-id").first()
    assert row is not None and row.new_values["page"] == "search" and row.new_values["patient_ids"] == [patient.pk]


def test_patients_and_admins_cannot_search(client, patient_user, admin) -> None:
    for user in (patient_user, admin):
        client.force_login(user)
        assert client.get("/search/", {"q": "a"}).status_code == 403


def test_the_task_queue_links_each_role_to_its_work(client, course, prescriber, crna, front_desk) -> None:
    visit = course.visits.order_by("starts_at").first()
    order = orders.do_sign_order(
        visit, dose_mg_per_kg=0.5, duration_min=40, concentration_mg_per_ml=1, at=MONDAY, acting_user=prescriber
    )
    client.force_login(crna)
    page = client.get("/tasks/").content.decode()
    assert f"/clinic/orders/{order.pk}/verify/" in page and f"Verify the order for {course.patient.full_name}" in page
    client.force_login(prescriber)
    assert f"/clinic/orders/{order.pk}/verify/" not in client.get("/tasks/").content.decode()  # never the signer


def test_the_front_desk_edits_demographics_with_an_audit_row(client, patient, front_desk) -> None:
    client.force_login(front_desk)
    data = {
        "given_name": "Jo",
        "family_name": patient.family_name,
        "birth_date": patient.birth_date.isoformat(),
        "sex": patient.sex,
        "phone": "555-0100",
        "email": "",
    }
    response = client.post(f"/desk/patients/{patient.pk}/", data)
    assert response.status_code == 302
    patient = Patient.objects.get(pk=patient.pk)
    assert patient.given_name == "Jo" and patient.phone == "555-0100"
    event = AuditEvent.objects.filter(event_type=EventType.PATIENT_UPDATED, patient=patient).latest("id")
    assert event.new_values == {"given_name": "Jo", "phone": "555-0100"}
    bad = client.post(f"/desk/patients/{patient.pk}/", {**data, "birth_date": "1850-01-01"})
    assert "birth date must be from 1900-01-01" in bad.content.decode()


def test_labels_are_words_not_codes(client, course, nurse, admin, auditor) -> None:
    client.force_login(nurse)
    chart = client.get(f"/clinic/patients/{course.patient_id}/").content.decode()
    assert "iv racemic depression" not in chart and "IV racemic ketamine for depression" in chart
    refused = client.get(f"/clinic/patients/{course.patient_id}/course/").content.decode()
    assert "may not plan a treatment course" in refused and "plan_course" not in refused
    client.force_login(auditor)
    trail = client.get("/admin-area/audit/").content.decode()
    assert "{&#x27;" not in trail and "protocol: iv_racemic_depression" in trail


def test_people_are_chosen_by_full_name(client, prescriber, crna, patient, recorded_intake) -> None:
    crna.first_name, crna.last_name = "Ana", "Chen"
    crna.save()
    from ketamine_clinic.services import intake

    intake.do_decide_eligibility(
        recorded_intake, decision="eligible", note="", at=MONDAY - timedelta(days=6), acting_user=prescriber
    )
    client.force_login(prescriber)
    page = client.get(f"/clinic/patients/{patient.pk}/course/").content.decode()
    assert ">Ana Chen, CRNA<" in page and ">crna1<" not in page


def test_chart_axes_are_dated_and_markers_labelled(client, running_session, prescriber, nurse) -> None:
    from ketamine_clinic.services import measures
    from ketamine_clinic.web import charts

    ticks = charts.day_ticks(0.0, 20.0, lambda d: f"day {d:g}")
    assert list(ticks) == [0.0, 7.0, 14.0] and ticks[7.0] == "day 7"
    visit = running_session.visit
    Visit = type(visit)
    Visit.objects.filter(pk=visit.pk).update(status="done")
    measures.do_record_assessment(
        visit.patient, "phq9", [1, 1, 1, 1, 1, 1, 1, 1, 0], at=MONDAY + timedelta(days=3), acting_user=nurse
    )
    client.force_login(prescriber)
    page = client.get(f"/clinic/patients/{visit.patient_id}/").content.decode()
    assert ">27 Oct<" in page  # the first score, 6 days before the first infusion
    assert 'class="marker-label"' in page and ">#1<title>Infusion #1" in page
    assert "days since first score" not in page
