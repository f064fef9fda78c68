from __future__ import annotations

import pytest
from django.db import transaction

from ketamine_clinic.services import audit
from ketamine_clinic.services.access import access_patient_by_id
from ketamine_clinic.services.errors import NotFound
from ketamine_clinic.storage.models import AuditChainHead, AuditEvent, EventType
from tests.support.tamper import as_database_owner


def test_every_event_links_to_the_one_before(patient, prescriber) -> None:
    access_patient_by_id(prescriber, patient.pk)
    events = list(AuditEvent.objects.order_by("id"))
    assert len(events) >= 3
    assert events[0].prev_hash == audit.GENESIS
    for before, after in zip(events, events[1:], strict=False):
        assert after.prev_hash == before.row_hash
    assert audit.verify_chain().ok


def test_recording_outside_a_transaction_is_refused(transactional_db) -> None:
    with pytest.raises(RuntimeError, match="inside the transaction"):
        audit.record(EventType.LOGIN, actor=None)


def test_an_altered_row_is_found(patient, prescriber) -> None:
    access_patient_by_id(prescriber, patient.pk)
    victim = AuditEvent.objects.filter(event_type=EventType.PATIENT_CREATED).get()
    with as_database_owner():
        AuditEvent.objects.filter(pk=victim.pk).update(new_values={"mrn": "FORGED"})
    report = audit.verify_chain()
    assert not report.ok
    assert report.broken_id == victim.pk
    assert "content" in report.reason


def test_a_deleted_row_breaks_the_next_link(patient, prescriber) -> None:
    access_patient_by_id(prescriber, patient.pk)
    ids = list(AuditEvent.objects.order_by("id").values_list("id", flat=True))
    with as_database_owner():
        AuditEvent.objects.filter(pk=ids[1]).delete()
    report = audit.verify_chain()
    assert (report.ok, report.broken_id) == (False, ids[2])
    assert "link" in report.reason


def test_a_truncated_tail_is_found(patient, prescriber) -> None:
    access_patient_by_id(prescriber, patient.pk)
    with as_database_owner():
        AuditEvent.objects.order_by("-id").first().delete()
    report = audit.verify_chain()
    assert not report.ok and report.broken_id is None


def test_a_failed_change_leaves_no_audit_row(db) -> None:
    before = AuditEvent.objects.count()
    with pytest.raises(ZeroDivisionError), transaction.atomic():
        audit.record(EventType.LOGIN, actor=None)
        _ = 1 / 0
    assert AuditEvent.objects.count() == before
    head = AuditChainHead.objects.first()
    assert (head.length if head else 0) == before


def test_reading_a_chart_is_audited_with_the_reader(patient, nurse) -> None:
    access_patient_by_id(nurse, patient.pk)
    event = AuditEvent.objects.filter(event_type=EventType.CHART_VIEWED).get()
    assert (event.actor, event.patient) == (nurse, patient)


def test_a_patient_reads_only_their_own_chart(patient, stranger, patient_user) -> None:
    assert access_patient_by_id(patient_user, patient.pk) == patient
    with pytest.raises(NotFound) as missing:
        access_patient_by_id(patient_user, 10_000)
    with pytest.raises(NotFound) as not_yours:
        access_patient_by_id(patient_user, stranger.pk)
    assert str(missing.value) == str(not_yours.value)


def test_front_desk_and_inactive_staff_cannot_read_a_chart(patient, front_desk, nurse) -> None:
    with pytest.raises(NotFound):
        access_patient_by_id(front_desk, patient.pk)
    nurse.is_active = False
    with pytest.raises(NotFound):
        access_patient_by_id(nurse, patient.pk)
