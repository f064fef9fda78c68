"""Merging a duplicate registration into the record that stays: every relation to a
patient is moved or deliberately kept, the refusals name their field, nothing is saved
half-way, and the merged record leaves every list but is never deleted."""

from __future__ import annotations

from datetime import date, time, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from ketamine_clinic.services import access, audit, courses, intake, navigation, patients, schedule
from ketamine_clinic.services.errors import Conflict, InvalidInput, NotAllowed, PatientMerged
from ketamine_clinic.storage.models import AuditEvent, EventType, Patient, Visit
from tests.conftest import AT, MONDAY, VITALS

REASON = "Registered twice at the front desk on the same day"


@pytest.fixture
def twin(db):  # type: ignore[no-untyped-def]
    """A second registration of the ``patient`` fixture's person (same name and birth date)."""
    return patients.do_create_patient(
        mrn="T-0009",
        given_name="Pat",
        family_name="Example",
        birth_date=date(1980, 1, 2),
        sex="female",
        at=AT,
        acting_user=None,
    )


def _counts(patient: Patient) -> dict[str, int]:
    return {
        model._meta.label: model._default_manager.filter(**{field: patient}).count()
        for model, field in patients.patient_relations()
    }


def test_every_relation_to_a_patient_is_moved_or_deliberately_kept() -> None:
    labels = {model._meta.label for model, _ in patients.patient_relations()}
    assert labels == set(patients.MERGE_HANDLING)
    assert set(patients.MERGE_HANDLING.values()) <= {"move", "keep", "one", "team"}
    assert {"storage.Visit", "storage.WaitlistEntry", "storage.OutreachMessage", "storage.PatientLink"} <= {
        label for label, how in patients.MERGE_HANDLING.items() if how == "move"
    }


def test_a_merge_moves_the_duplicates_records_and_its_portal_login(
    twin, patient, patient_user, course, front_desk, prescriber
) -> None:
    schedule.do_add_to_waitlist(patient, wanted="Any earlier weekday morning", at=MONDAY, acting_user=front_desk)
    before = _counts(patient)
    assert before["storage.Visit"] == 6 and before["storage.WaitlistEntry"] == 1
    kept = patients.merge_patients(twin, patient, reason=REASON, acting_user=front_desk)
    patient.refresh_from_db()
    assert (patient.status, patient.merged_into_id, patient.user_id) == ("merged", twin.pk, None)
    assert kept.user_id == patient_user.pk
    after = _counts(patient)
    for label, how in patients.MERGE_HANDLING.items():
        if how == "keep":
            assert after[label] == before[label], label  # append-only rows stay where they were written
        else:
            assert after[label] == 0, label
    assert Visit.objects.filter(patient=twin).count() == 6 and courses.Course.objects.get(pk=course.pk).patient == twin
    row = AuditEvent.objects.get(event_type=EventType.PATIENT_MERGED, subject_type="Patient")
    assert row.patient_id == twin.pk and row.new_values["reason"] == REASON
    assert sorted(row.new_values["moved"]["Visit"]) == sorted(
        Visit.objects.filter(patient=twin).values_list("pk", flat=True)
    )
    assert audit.verify_chain().ok  # the moved scores were re-audited with their new patient


def test_the_merged_record_leaves_lists_and_search_and_names_the_kept_one(
    twin, patient, front_desk, prescriber
) -> None:
    patients.merge_patients(twin, patient, reason=REASON, acting_user=front_desk)
    assert [p.pk for p in navigation.search_patients(prescriber, "Example")] == [twin.pk]
    assert list(access.patient_queryset_for(front_desk)) == [twin]
    with pytest.raises(PatientMerged) as moved:
        access.access_patient_by_id(prescriber, patient.pk)
    assert moved.value.kept_id == twin.pk
    assert patients.possible_duplicates(twin) == []
    assert Patient.objects.filter(pk=patient.pk).exists()  # never deleted


def test_an_admin_may_merge_and_clinicians_may_not(twin, patient, admin, prescriber, nurse) -> None:
    for user in (prescriber, nurse):
        with pytest.raises(NotAllowed):
            patients.merge_patients(twin, patient, reason=REASON, acting_user=user)
    patients.merge_patients(twin, patient, reason=REASON, acting_user=admin)
    assert Patient.objects.get(pk=patient.pk).merged_into_id == twin.pk


@pytest.mark.parametrize("reason", ["", "dup", "x" * 301])
def test_the_reason_is_required_and_bounded(twin, patient, front_desk, reason) -> None:
    with pytest.raises(InvalidInput) as error:
        patients.merge_patients(twin, patient, reason=reason, acting_user=front_desk)
    assert error.value.field == "reason"


def _assert_nothing_changed(twin, patient) -> None:  # type: ignore[no-untyped-def]
    patient.refresh_from_db()
    twin.refresh_from_db()
    assert patient.status == "active" and twin.status == "active" and patient.merged_into_id is None
    assert not AuditEvent.objects.filter(event_type=EventType.PATIENT_MERGED).exists()


def test_the_same_record_or_an_already_merged_one_is_refused(twin, patient, stranger, front_desk) -> None:
    with pytest.raises(Conflict) as error:
        patients.merge_patients(patient, patient, reason=REASON, acting_user=front_desk)
    assert error.value.field == "duplicate"
    patients.merge_patients(twin, patient, reason=REASON, acting_user=front_desk)
    with pytest.raises(Conflict, match="already merged") as error:
        patients.merge_patients(stranger, patient, reason=REASON, acting_user=front_desk)
    assert error.value.field == "duplicate"
    with pytest.raises(Conflict, match="already merged") as error:
        patients.merge_patients(patient, stranger, reason=REASON, acting_user=front_desk)
    assert error.value.field == "keep"


def test_two_active_courses_are_refused_and_nothing_moves(twin, patient, course, nurse, prescriber, front_desk) -> None:
    recorded = intake.do_record_intake(
        twin, diagnoses=["trd"], failed_trials=[{"drug": "sertraline", "weeks": 8, "adequate": True},
        {"drug": "bupropion", "weeks": 8, "adequate": True}], contraindications={}, weight_kg="70.0",
        height_cm="170", vitals=VITALS, pregnant=False, consent_given=True, at=MONDAY - timedelta(days=7),
        acting_user=nurse,
    )  # fmt: skip
    intake.do_decide_eligibility(recorded, decision="eligible", note="", at=MONDAY, acting_user=prescriber)
    courses.do_plan_course(
        twin, protocol="iv_racemic_depression", start_date=MONDAY.date() + timedelta(days=21), start_time=time(13, 0),
        baseline_score=16, at=MONDAY, acting_user=prescriber,
    )  # fmt: skip
    before = _counts(patient)
    with pytest.raises(Conflict) as error:
        patients.merge_patients(twin, patient, reason=REASON, acting_user=front_desk)
    assert error.value.field == "course"
    assert _counts(patient) == before
    _assert_nothing_changed(twin, patient)


def test_a_session_in_progress_on_the_duplicate_is_refused(twin, patient, running_session, front_desk) -> None:
    before = _counts(patient)
    with pytest.raises(Conflict) as error:
        patients.merge_patients(twin, patient, reason=REASON, acting_user=front_desk)
    assert error.value.field == "session" and _counts(patient) == before
    _assert_nothing_changed(twin, patient)


def test_two_portal_logins_are_refused(twin, patient, front_desk, admin) -> None:
    patients.do_create_patient_login(twin, username="pat.twin", password="another-password-42", acting_user=admin)
    with pytest.raises(Conflict) as error:
        patients.merge_patients(twin, patient, reason=REASON, acting_user=front_desk)
    assert error.value.field == "user"
    _assert_nothing_changed(twin, patient)


def test_a_failure_half_way_saves_nothing(twin, patient, course, front_desk, monkeypatch) -> None:
    def broken(*args, **kwargs):  # type: ignore[no-untyped-def]
        raise RuntimeError("audit store unavailable")

    monkeypatch.setattr(patients.audit, "record", broken)
    before = _counts(patient)
    with pytest.raises(RuntimeError, match="audit store unavailable"):
        patients.merge_patients(twin, patient, reason=REASON, acting_user=front_desk)
    assert _counts(patient) == before and Patient.objects.get(pk=twin.pk).user_id is None
    _assert_nothing_changed(twin, patient)


def test_both_rows_are_locked_lower_id_first(twin, patient, front_desk) -> None:
    with CaptureQueriesContext(connection) as seen:
        patients.merge_patients(patient, twin, reason=REASON, acting_user=front_desk)
    locks = [q["sql"] for q in seen if 'FROM "kc_patient"' in q["sql"] and "IN (" in q["sql"]]
    assert locks and 'ORDER BY "kc_patient"."id" ASC' in locks[0]
    if connection.features.has_select_for_update:  # PostgreSQL; SQLite locks the whole file
        assert "FOR UPDATE" in locks[0]


def test_two_different_people_are_never_merged(patient, stranger, front_desk) -> None:
    with pytest.raises(Conflict, match="these differ") as error:
        patients.merge_patients(stranger, patient, reason=REASON, acting_user=front_desk)
    assert error.value.field == "duplicate" and "birth date" in error.value.message
    patient.refresh_from_db()
    assert patient.status == "active" and patient.user_id is not None  # the portal login stays where it was


def _pre(patient, who, at, *, allergies=(), meds=()):  # type: ignore[no-untyped-def]
    from ketamine_clinic.services import preprocedure

    return preprocedure.do_record_pre_procedure(
        patient, allergies=[{"substance": a, "reaction": "rash"} for a in allergies],
        no_known_allergies=not allergies, medications=[{"name": m, "dose": "15 mg"} for m in meds],
        asa_class="2", airway_note="", npo_solids_since=None, npo_clear_since=None, escort_name="Sam Example",
        escort_phone="+1 555 0100", diagnoses=["F33.2"], at=at, acting_user=who,
    )  # fmt: skip


def test_an_allergy_on_the_duplicate_is_never_hidden_by_the_merge(twin, patient, nurse, front_desk) -> None:
    _pre(patient, nurse, AT, allergies=["Penicillin"], meds=["phenelzine"])
    _pre(twin, nurse, AT + timedelta(hours=1))  # "no known drug allergies" on the record that stays
    with pytest.raises(Conflict, match="penicillin, phenelzine") as error:
        patients.merge_patients(twin, patient, reason=REASON, acting_user=front_desk)
    assert error.value.field == "pre_procedure"
    _pre(twin, nurse, AT + timedelta(hours=2), allergies=["Penicillin"], meds=["Phenelzine"])  # reconciled
    patients.merge_patients(twin, patient, reason=REASON, acting_user=front_desk)
    assert "Penicillin" in (navigation.banner(twin, at=AT + timedelta(hours=3)).allergies or "")


def test_two_waiting_list_entries_are_refused(twin, patient, front_desk) -> None:
    for who in (twin, patient):
        schedule.do_add_to_waitlist(who, wanted="Any weekday morning", at=MONDAY, acting_user=front_desk)
    with pytest.raises(Conflict) as error:
        patients.merge_patients(twin, patient, reason=REASON, acting_user=front_desk)
    assert error.value.field == "waitlist"


def test_a_page_that_read_the_duplicate_before_the_merge_cannot_write_to_it(twin, patient, nurse, front_desk) -> None:
    from ketamine_clinic.services import measures
    from ketamine_clinic.storage.models import Assessment

    before = Assessment.objects.count()
    stale = Patient.objects.get(pk=patient.pk)  # read before the merge
    patients.merge_patients(twin, patient, reason=REASON, acting_user=front_desk)
    with pytest.raises(PatientMerged):  # a PHQ-9 with item 9 would raise its alert on an invisible record
        measures.do_record_assessment(stale, "phq9", [1, 1, 1, 1, 1, 1, 1, 1, 2], at=AT, acting_user=nurse)
    with pytest.raises(PatientMerged):
        _pre(stale, nurse, AT)
    assert Assessment.objects.count() == before
