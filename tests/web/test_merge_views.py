"""The merge page: the front desk (or an admin) chooses two records, compares them side by
side and confirms with a reason; a merged record's pages redirect to the kept chart."""

from __future__ import annotations

from datetime import date

import pytest

from ketamine_clinic.services import patients
from ketamine_clinic.storage.models import AuditEvent, EventType, Patient
from tests.conftest import AT

REASON = "Registered twice: same person, same date of birth"


@pytest.fixture
def twin(db):  # type: ignore[no-untyped-def]
    return patients.do_create_patient(
        mrn="T-0009", given_name="Pat", family_name="Example", birth_date=date(1980, 1, 2), sex="female", at=AT,
        acting_user=None,
    )  # fmt: skip


def test_the_desk_page_flags_a_possible_duplicate_with_a_link_to_compare(client, patient, twin, front_desk) -> None:
    client.force_login(front_desk)
    page = client.get(f"/desk/patients/{twin.pk}/").content.decode()
    assert 'id="duplicate-flag"' in page and "T-0001" in page
    assert f"/desk/patients/merge/?keep={twin.pk}&amp;duplicate={patient.pk}" in page


def test_registering_the_same_person_links_to_the_existing_record(client, patient, front_desk) -> None:
    client.force_login(front_desk)
    form = {"given_name": "pat", "family_name": "EXAMPLE", "birth_date": "1980-01-02", "sex": "female"}
    page = client.post("/desk/patients/new/", form).content.decode()
    assert 'id="duplicate-flag"' in page and f'href="/desk/patients/{patient.pk}/"' in page


def test_the_pair_is_shown_side_by_side_by_mrn_or_id(client, patient, twin, front_desk, course) -> None:
    client.force_login(front_desk)
    page = client.get("/desk/patients/merge/", {"keep_mrn": "t-0009", "duplicate_mrn": "T-0001"}).content.decode()
    assert 'id="merge-compare"' in page and "Merge T-0001 into T-0009" in page
    assert "(one active)" in page  # the duplicate's course is shown before it moves
    by_id = client.get("/desk/patients/merge/", {"keep": twin.pk, "duplicate": patient.pk}).content.decode()
    assert "Merge T-0001 into T-0009" in by_id
    unknown = client.get("/desk/patients/merge/", {"keep_mrn": "T-0009", "duplicate_mrn": "NOPE"})
    assert unknown.status_code == 422 and "No active patient" in unknown.content.decode()


def test_confirming_merges_and_the_old_chart_url_redirects_to_the_kept_one(
    client, patient, twin, front_desk, prescriber
) -> None:
    client.force_login(front_desk)
    response = client.post("/desk/patients/merge/", {"keep": twin.pk, "duplicate": patient.pk, "reason": REASON})
    assert response.status_code == 302 and response["Location"] == f"/desk/patients/{twin.pk}/"
    assert Patient.objects.get(pk=patient.pk).merged_into_id == twin.pk
    assert AuditEvent.objects.filter(event_type=EventType.PATIENT_MERGED, actor=front_desk).exists()
    old = client.get(f"/desk/patients/{patient.pk}/", follow=True)
    assert old.redirect_chain == [(f"/desk/patients/{twin.pk}/", 302)]
    assert "merged into this one" in old.content.decode()
    client.force_login(prescriber)
    chart = client.get(f"/clinic/patients/{patient.pk}/")
    assert chart.status_code == 302 and chart["Location"] == f"/clinic/patients/{twin.pk}/"
    assert "T-0001" not in client.get("/search/", {"q": "Example"}).content.decode()


def test_a_refusal_names_its_field_and_nothing_is_merged(client, patient, twin, front_desk) -> None:
    client.force_login(front_desk)
    response = client.post("/desk/patients/merge/", {"keep": twin.pk, "duplicate": patient.pk, "reason": "dup"})
    assert response.status_code == 422 and 'data-field="reason"' in response.content.decode()
    assert Patient.objects.get(pk=patient.pk).status == "active"


def test_an_admin_merges_from_the_page_and_clinicians_get_403(client, patient, twin, admin, prescriber, nurse) -> None:
    for user in (prescriber, nurse):
        client.force_login(user)
        assert client.get("/desk/patients/merge/").status_code == 403
    client.force_login(admin)
    response = client.post("/desk/patients/merge/", {"keep": twin.pk, "duplicate": patient.pk, "reason": REASON})
    assert response.status_code == 302 and response["Location"] == "/desk/patients/merge/"
    assert Patient.objects.get(pk=patient.pk).status == "merged"


def test_a_stranger_patient_cannot_open_the_page_or_learn_of_a_merge(
    client, patient, twin, stranger_user, front_desk
) -> None:  # noqa: E501
    patients.merge_patients(twin, patient, reason=REASON, acting_user=front_desk)
    client.force_login(stranger_user)
    assert client.get("/desk/patients/merge/").status_code == 403
    assert client.get(f"/clinic/patients/{patient.pk}/").status_code == 403
