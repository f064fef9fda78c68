"""web.views.me and home.me_home: a patient sees their own care and answers questionnaires."""

from __future__ import annotations

from ketamine_clinic.storage.models import Assessment


def test_a_patient_answers_a_phq9_and_sees_it_saved(client, patient_user, patient) -> None:
    client.force_login(patient_user)
    form = client.get("/me/questionnaires/phq9/").content.decode()
    assert 'name="item_9"' in form
    response = client.post("/me/questionnaires/phq9/", {f"item_{i}": "1" for i in range(1, 10)} | {"item_9": "0"})
    assert response.status_code == 302
    assert Assessment.objects.get(patient=patient, instrument="phq9").total == 8


def test_an_unknown_questionnaire_is_a_404_not_a_server_error(client, patient_user, patient) -> None:
    client.force_login(patient_user)
    assert client.get("/me/questionnaires/bogus/").status_code == 404


def test_staff_have_no_patient_portal(client, nurse) -> None:
    client.force_login(nurse)
    assert client.get("/me/").status_code in (302, 403, 404)
