"""services.access: one door to every patient-scoped read, the same answer for 'missing' and 'not yours'."""

from __future__ import annotations

import pytest

from ketamine_clinic.services import access, care_team, clinic
from ketamine_clinic.services.errors import NotFound
from ketamine_clinic.storage.models import AuditEvent, EventType


def test_a_patient_opens_their_own_chart_and_nobody_elses(patient_user, patient, stranger) -> None:
    assert access.access_patient_by_id(patient_user, patient.pk) == patient
    with pytest.raises(NotFound) as other:
        access.access_patient_by_id(patient_user, stranger.pk)
    with pytest.raises(NotFound) as missing:
        access.access_patient_by_id(patient_user, 999_999)
    assert str(other.value) == str(missing.value)  # nothing tells 'exists' from 'not yours'


def test_every_chart_read_outside_a_page_is_audited_once(nurse, patient) -> None:
    before = AuditEvent.objects.filter(event_type=EventType.CHART_VIEWED).count()
    access.access_patient_by_id(nurse, patient.pk)
    assert AuditEvent.objects.filter(event_type=EventType.CHART_VIEWED, patient=patient).count() == before + 1


def test_a_page_view_writes_one_audit_row_naming_every_patient_it_opened(nurse, patient, stranger) -> None:
    with access.page_view() as reads:
        for _ in range(3):
            access.access_patient_by_id(nurse, patient.pk)
        access.access_patient_by_id(nurse, stranger.pk)
    before = AuditEvent.objects.count()
    access.do_record_page_view(nurse, reads, page="/clinic/patients/")
    assert AuditEvent.objects.count() == before + 1
    row = AuditEvent.objects.filter(event_type=EventType.PAGE_VIEWED).latest("id")
    assert row.new_values["patient_ids"] == [patient.pk, stranger.pk] and row.new_values["patient_count"] == 2


def test_a_page_that_opened_one_chart_is_a_chart_view(nurse, patient) -> None:
    with access.page_view() as reads:
        access.access_patient_by_id(nurse, patient.pk)
    access.do_record_page_view(nurse, reads, page="/clinic/patients/1/")
    assert AuditEvent.objects.filter(event_type=EventType.CHART_VIEWED, patient=patient).latest("id").new_values == {
        "page": "/clinic/patients/1/"
    }


def test_care_team_only_narrows_clinicians_to_their_patients(admin, nurse, patient, stranger) -> None:
    clinic.do_update_clinic_settings(
        clinic_name="Clinic", idle_timeout_minutes=15, care_team_only=True, acting_user=admin
    )
    care_team.do_add_care_team_member(patient, nurse, acting_user=admin)
    assert list(access.patient_queryset_for(nurse)) == [patient]
    with pytest.raises(NotFound):
        access.access_patient_by_id(nurse, stranger.pk)


def test_the_front_desk_lists_patients_but_opens_no_chart(front_desk, patient) -> None:
    assert list(access.patient_queryset_for(front_desk)) == [patient]
    with pytest.raises(NotFound):
        access.access_patient_by_id(front_desk, patient.pk)


def test_a_child_row_is_loaded_with_its_patient_and_the_care_team_setting_in_two_queries(
    nurse, running_session, django_assert_num_queries
) -> None:
    with access.page_view(), django_assert_num_queries(2):
        session = access.access_session_by_id(nurse, running_session.pk)
        assert session.patient.mrn == "T-0001"  # joined, not a second query
