"""Reads compiled once per process (``storage.prepared``) give what the queryset gives."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from django.db import connection, connections
from django.test.utils import CaptureQueriesContext

from ketamine_clinic.services import sessions
from ketamine_clinic.storage.models import InfusionSession, Patient, VitalSign
from ketamine_clinic.storage.prepared import Prepared

VITALS = {"systolic_mmhg": 124, "diastolic_mmhg": 78, "heart_rate_bpm": 70, "spo2_percent": 98, "respiratory_rate": 14}


def _fields(row) -> dict:  # type: ignore[no-untyped-def]
    return {f.attname: getattr(row, f.attname) for f in row._meta.concrete_fields}


def test_rows_and_their_related_rows_are_those_of_the_queryset(running_session, nurse) -> None:
    for minute in (10, 20):
        sessions.do_record_vitals(
            running_session, VITALS, at=running_session.started_at + timedelta(minutes=minute), acting_user=nurse
        )
    build_calls = []

    def build(session_id):  # type: ignore[no-untyped-def]
        build_calls.append(session_id)
        return VitalSign.objects.filter(session_id=session_id).select_related("recorded_by").order_by("at", "id")

    read = Prepared(VitalSign, build, "session_id")
    expected = list(build(running_session.pk))
    build_calls.clear()
    rows = read(session_id=running_session.pk)
    assert [_fields(r) for r in rows] == [_fields(r) for r in expected]
    assert len(rows) >= 2
    with CaptureQueriesContext(connection) as queries:  # the related row came with the read
        names = [r.recorded_by.username for r in rows]
    assert names == [r.recorded_by.username for r in expected] and len(queries) == 0
    assert all(not r._state.adding and r._state.db == "default" for r in rows)
    # built once: later calls only bind the id, and another id gives that session's rows
    assert read(session_id=running_session.pk + 1000) == []
    read(session_id=running_session.pk)
    assert len(build_calls) == 1
    with CaptureQueriesContext(connection) as queries:
        read(session_id=running_session.pk)
    assert len(queries) == 1 and str(running_session.pk) in queries[0]["sql"]


def test_a_select_related_chain_and_a_slice_read_like_the_orm(running_session) -> None:
    related = ("patient", "order", "order__verified_by", "visit", "visit__chair", "visit__course")
    read = Prepared(
        InfusionSession, lambda pk: InfusionSession.objects.select_related(*related).filter(pk=pk)[:1], "pk"
    )
    got = read.first(pk=running_session.pk)
    assert got is not None and _fields(got) == _fields(running_session)
    expected = (running_session.visit.chair.name, running_session.order.verified_by_id, running_session.patient.mrn)
    with CaptureQueriesContext(connection) as queries:
        assert (got.visit.chair.name, got.order.verified_by.pk, got.patient.mrn) == expected
        assert got.visit.course.pk == running_session.visit.course_id
    assert len(queries) == 0
    assert read.first(pk=-1) is None
    assert read.first(pk=2**70) is None and read(pk=-(2**64)) == []  # beyond any id column, as the ORM


def test_a_constant_in_the_statement_stays_and_only_the_ids_are_bound(patient) -> None:
    read = Prepared(Patient, lambda pk: Patient.objects.filter(pk=pk, merged_into=None, mrn__startswith="T-"), "pk")
    assert [p.pk for p in read(pk=patient.pk)] == [patient.pk]
    Patient.objects.filter(pk=patient.pk).update(mrn="X-0001")
    assert read(pk=patient.pk) == []


@pytest.mark.django_db
def test_misuse_is_refused_before_any_read() -> None:
    by_pk = Prepared(Patient, lambda pk: Patient.objects.filter(pk=pk), "pk")
    with pytest.raises(TypeError, match="must be an int"):
        by_pk(pk="7")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="expected the ids"):
        by_pk(id=7)
    locked = Prepared(Patient, lambda pk: Patient.objects.select_for_update().filter(pk=pk), "pk")
    with pytest.raises(TypeError, match="plain read"):
        locked(pk=1)
    values = Prepared(Patient, lambda pk: Patient.objects.filter(pk=pk).values("mrn"), "pk")
    with pytest.raises(TypeError, match="plain read"):
        values(pk=1)
    # an id used where the ORM turns it into something else is not a plain parameter
    text = Prepared(Patient, lambda pk: Patient.objects.filter(mrn=str(pk)), "pk")
    with pytest.raises(TypeError, match="not bound as a plain parameter"):
        text(pk=1)
    shifted = Prepared(Patient, lambda pk, other: Patient.objects.filter(pk=pk, merged_into_id=pk + 1), "pk", "other")
    with pytest.raises(TypeError, match="changed before it is bound"):
        shifted(pk=1, other=2)
    pinned = Prepared(Patient, lambda pk: Patient.objects.using("default").filter(pk=pk), "pk")
    with pytest.raises(TypeError, match="plain read"):  # the router chooses the database
        pinned(pk=1)


@pytest.mark.postgresql
@pytest.mark.django_db(transaction=True)
def test_each_thread_reads_on_its_own_connection(patient) -> None:
    read = Prepared(Patient, lambda pk: Patient.objects.filter(pk=pk), "pk")
    assert read.first(pk=patient.pk) is not None  # compiled on this thread's connection
    seen: list[object] = []

    def other() -> None:
        try:
            row = read.first(pk=patient.pk)
            seen.append((row.pk if row else None, connections["default"] is not connection))
        finally:
            connections.close_all()

    thread = threading.Thread(target=other)
    thread.start()
    thread.join()
    assert seen == [(patient.pk, True)]


@pytest.mark.django_db
def test_per_model_makes_one_read_per_model_on_first_use(patient) -> None:
    from ketamine_clinic.storage.models import Intake
    from ketamine_clinic.storage.prepared import per_model

    by_patient = per_model(lambda model, patient_id: model.objects.filter(patient_id=patient_id), "patient_id")
    assert by_patient(Intake) is by_patient(Intake) and by_patient(Intake) is not by_patient(VitalSign)
    assert by_patient(Intake).model is Intake
    assert by_patient(Intake)(patient_id=patient.pk) == list(Intake.objects.filter(patient=patient))
