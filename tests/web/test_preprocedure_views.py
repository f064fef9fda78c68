"""The pre-procedure record and consent pages over HTTP: what was typed survives a
refusal, a save is a new version, the consent is signed on screen, roles are checked."""

from __future__ import annotations

from ketamine_clinic.domain.preprocedure import consent_for_route
from ketamine_clinic.storage.models import ConsentSignature, PreProcedureRecord

FORM = {
    "allergy_substance_0": "Penicillin",
    "allergy_reaction_0": "Hives",
    "med_name_0": "Lorazepam",
    "med_dose_0": "1 mg at night",
    "med_class_0": "",
    "asa_class": "2",
    "airway_note": "Mallampati II",
    "npo_solids_since": "",
    "npo_clear_since": "",
    "escort_name": "Jordan Example",
    "escort_phone": "555-010-2030",
    "diagnoses": ["F33.2"],
}


def test_the_record_saves_a_version_and_shows_the_classes_on_the_chart(client, nurse, patient) -> None:
    client.force_login(nurse)
    url = f"/clinic/patients/{patient.pk}/pre-procedure/"
    assert "No pre-procedure record yet" in client.get(url).content.decode()
    response = client.post(url, FORM)
    assert response.status_code == 302
    record = PreProcedureRecord.objects.get()
    assert record.medications == [{"name": "Lorazepam", "dose": "1 mg at night", "classes": ["benzodiazepine"]}]
    chart = client.get(f"/clinic/patients/{patient.pk}/").content.decode()
    assert "Penicillin (Hives)" in chart and "Benzodiazepine (CNS depressant)" in chart and "F33.2" in chart


def test_a_refused_record_keeps_what_was_typed_and_names_the_field(client, nurse, patient) -> None:
    client.force_login(nurse)
    response = client.post(
        f"/clinic/patients/{patient.pk}/pre-procedure/", {**FORM, "escort_phone": "soon", "diagnoses": ["F33.2"]}
    )
    assert response.status_code == 422
    page = response.content.decode()
    assert "Not saved." in page and "escort phone must be a telephone number" in page
    assert 'value="Penicillin"' in page and 'value="Jordan Example"' in page and 'value="F33.2" checked' in page
    assert not PreProcedureRecord.objects.exists()


def test_the_front_desk_cannot_open_the_record(client, front_desk, patient) -> None:
    client.force_login(front_desk)
    assert client.get(f"/clinic/patients/{patient.pk}/pre-procedure/").status_code == 403
    assert client.get(f"/clinic/patients/{patient.pk}/consent/").status_code == 403


def test_another_patients_record_is_not_found(client, stranger_user, patient) -> None:
    client.force_login(stranger_user)
    assert client.get(f"/clinic/patients/{patient.pk}/pre-procedure/").status_code in (403, 404)


def test_consent_is_signed_on_screen_with_its_version(client, nurse, patient) -> None:
    client.force_login(nurse)
    url = f"/clinic/patients/{patient.pk}/consent/"
    document = consent_for_route("iv")
    page = client.get(url).content.decode()
    assert document.title in page and f"version {document.version}" in page
    form = {"document": document.code, "version": document.version, "signed_name": "Pat Example"}
    refused = client.post(url, form)
    assert refused.status_code == 422 and "read and understood" in refused.content.decode()
    assert client.post(url, {**form, "read_and_understood": "on"}).status_code == 302
    signature = ConsentSignature.objects.get()
    assert signature.version == document.version and signature.text_sha256 == document.sha256
    assert "witnessed by" in client.get(url).content.decode()
