"""The review's attacks on the audit trail, each reported by ``verify_chain``.

The attacker can write the database (and knows the code), but not ``KC_AUDIT_KEY`` nor
the checkpoint files in the data directory.
"""

from __future__ import annotations

import json

import pytest
from django.db import DatabaseError, connection, transaction

from ketamine_clinic.services import audit, audit_checkpoints
from ketamine_clinic.services.access import access_patient_by_id
from ketamine_clinic.storage.models import AuditChainHead, AuditEvent, EventType, VitalSign
from tests.support.tamper import as_database_owner


def _checkpoint_now() -> None:
    audit.do_checkpoint()


def _rechain_from(first_id: int) -> None:
    """What the review did: recompute every SHA-256 link after an edit and move the head."""
    prev = AuditEvent.objects.filter(id__lt=first_id).order_by("-id").values_list("row_hash", flat=True).first()
    prev = prev or audit.GENESIS
    with as_database_owner():
        for event in AuditEvent.objects.filter(id__gte=first_id).order_by("id"):
            event.prev_hash = prev
            event.row_hash = audit.row_digest(event)
            AuditEvent.objects.filter(pk=event.pk).update(prev_hash=event.prev_hash, row_hash=event.row_hash)
            prev = event.row_hash
        AuditChainHead.objects.filter(singleton=1).update(last_hash=prev)


def test_an_intact_trail_of_a_whole_session_verifies_with_no_clinical_differences(running_session) -> None:
    _checkpoint_now()
    report = audit.verify_chain()
    assert report.ok, report.problems
    assert report.problems == () and report.checkpoints >= 1
    assert report.checked == AuditEvent.objects.count()


def test_rewriting_a_vital_sign_and_rehashing_the_chain_is_reported(running_session) -> None:
    vital = VitalSign.objects.filter(session=running_session).first()
    event = AuditEvent.objects.get(subject_type="VitalSign", subject_id=str(vital.pk))
    with as_database_owner():
        VitalSign.objects.filter(pk=vital.pk).update(systolic_mmhg=118)
        AuditEvent.objects.filter(pk=event.pk).update(new_values={**event.new_values, "systolic_mmhg": 118})
    _rechain_from(event.pk)
    report = audit.verify_chain()
    assert not report.ok
    assert report.broken_id == event.pk
    assert "MAC does not match" in report.reason


def test_rehashing_without_the_key_is_reported_even_with_the_digest_recomputed(running_session) -> None:
    vital = VitalSign.objects.filter(session=running_session).first()
    event = AuditEvent.objects.get(subject_type="VitalSign", subject_id=str(vital.pk))
    VitalSign.objects.filter(pk=vital.pk).update(systolic_mmhg=118)
    vital.refresh_from_db()
    with as_database_owner():
        AuditEvent.objects.filter(pk=event.pk).update(subject_digest=audit.subject_digest(vital))
    _rechain_from(event.pk)
    assert audit.verify_chain().broken_id == event.pk


def test_cutting_the_tail_and_moving_the_head_is_reported(patient, prescriber) -> None:
    access_patient_by_id(prescriber, patient.pk)
    access_patient_by_id(prescriber, patient.pk)
    _checkpoint_now()
    events = list(AuditEvent.objects.order_by("-id")[:2])
    with as_database_owner():
        AuditEvent.objects.filter(pk__in=[e.pk for e in events]).delete()
    survivor = AuditEvent.objects.order_by("-id").first()
    AuditChainHead.objects.filter(singleton=1).update(last_hash=survivor.row_hash, length=AuditEvent.objects.count())
    report = audit.verify_chain()
    assert not report.ok
    assert any("rows were cut from the end" in p for p in report.problems)


def test_a_direct_edit_of_a_vital_sign_is_reported(running_session) -> None:
    vital = VitalSign.objects.filter(session=running_session).first()
    VitalSign.objects.filter(pk=vital.pk).update(systolic_mmhg=vital.systolic_mmhg + 40)
    report = audit.verify_chain()
    assert not report.ok
    assert report.broken_id is None  # the chain itself is intact ...
    assert any(f"VitalSign #{vital.pk} differs from its audited values" in p for p in report.problems)


def test_a_vital_sign_inserted_past_the_application_is_reported(running_session, nurse) -> None:
    original = VitalSign.objects.filter(session=running_session).first()
    original.pk = None
    original.save()
    report = audit.verify_chain()
    assert any(f"VitalSign #{original.pk} has no audit record" in p for p in report.problems)


def test_a_forged_checkpoint_is_reported(patient, prescriber) -> None:
    access_patient_by_id(prescriber, patient.pk)
    _checkpoint_now()
    path = audit_checkpoints.audit_dir() / "head-1.json"
    raw = json.loads(path.read_text())
    raw["length"] = 1
    path.write_text(json.dumps(raw))
    report = audit.verify_chain()
    assert any("signature does not match" in p for p in report.problems)


def test_a_checkpoint_is_written_after_each_commit_and_only_moves_forward(
    patient, prescriber, django_capture_on_commit_callbacks
) -> None:  # noqa: E501
    with django_capture_on_commit_callbacks(execute=True):
        access_patient_by_id(prescriber, patient.pk)
    head = AuditChainHead.objects.get(singleton=1)
    points = [p for p in audit_checkpoints.read_checkpoints() if not isinstance(p, str)]
    assert [(p.lane, p.length, p.head_hash) for p in points] == [(1, head.length, head.last_hash)]
    audit_checkpoints.write_checkpoint(1, 1, "0" * 64, log=False)  # a late, older writer
    latest = next(audit_checkpoints.read_checkpoints())
    assert not isinstance(latest, str) and latest.length == head.length
    assert (audit_checkpoints.audit_dir() / "head-1.json").stat().st_mode & 0o777 == 0o600


def test_the_database_refuses_to_update_an_audit_row(patient) -> None:
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        AuditEvent.objects.filter(event_type=EventType.PATIENT_CREATED).update(new_values={"mrn": "X"})


def test_deleting_an_audit_row_is_refused_on_postgresql_and_reported_everywhere(patient, prescriber) -> None:
    access_patient_by_id(prescriber, patient.pk)
    middle = AuditEvent.objects.order_by("id")[1]
    if connection.vendor == "postgresql":
        with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
            AuditEvent.objects.filter(pk=middle.pk).delete()
        with as_database_owner():
            AuditEvent.objects.filter(pk=middle.pk).delete()
    else:  # SQLite: whoever can write the file can drop triggers; the chain still shows it
        AuditEvent.objects.filter(pk=middle.pk).delete()
    assert audit.verify_chain().ok is False


def _use_lane(monkeypatch, lane: int) -> None:  # type: ignore[no-untyped-def]
    def lock():  # type: ignore[no-untyped-def]
        head, _ = AuditChainHead.objects.select_for_update().get_or_create(
            singleton=lane, defaults={"last_hash": audit.GENESIS}
        )
        return head

    monkeypatch.setattr(audit, "_lock_a_lane", lock)


def test_interleaved_lanes_each_verify_as_a_chain_of_their_own(patient, prescriber, monkeypatch) -> None:
    for lane in (2, 1, 2, 3):
        _use_lane(monkeypatch, lane)
        access_patient_by_id(prescriber, patient.pk)
    assert set(AuditEvent.objects.values_list("lane", flat=True)) == {1, 2, 3}
    _checkpoint_now()
    assert audit.verify_chain().ok
    last_of_lane_2 = AuditEvent.objects.filter(lane=2).order_by("-id").first()
    with as_database_owner():
        last_of_lane_2.delete()
    survivor = AuditEvent.objects.filter(lane=2).order_by("-id").first()
    AuditChainHead.objects.filter(singleton=2).update(last_hash=survivor.row_hash, length=1)
    report = audit.verify_chain()
    assert not report.ok
    assert any("lane 2 has 1 events but the checkpoint" in p for p in report.problems)


def test_concurrent_writers_spread_over_lanes_and_never_fork_the_chain(transactional_db, patient, prescriber) -> None:
    import threading

    from django.db import connections

    for lane in range(1, audit.LANES + 1):  # a flushed test database lost the migration's lanes
        AuditChainHead.objects.get_or_create(singleton=lane, defaults={"last_hash": audit.GENESIS})
    start = threading.Barrier(8)

    def many() -> None:
        start.wait()
        try:
            for _ in range(10):
                access_patient_by_id(prescriber, patient.pk)
        finally:
            connections.close_all()

    if connection.vendor == "postgresql":
        threads = [threading.Thread(target=many) for _ in range(8)]
        for t in threads:
            t.start()
        while_writing = [audit.verify_chain() for _ in range(3)]  # the clinic stays open
        for t in threads:
            t.join()
        assert all(r.ok for r in while_writing), [r.problems for r in while_writing]
    else:  # SQLite serialises writers itself: one lane, in order
        for _ in range(80):
            access_patient_by_id(prescriber, patient.pk)
    report = audit.verify_chain()
    assert report.ok, report.problems
    reads = AuditEvent.objects.filter(event_type=EventType.CHART_VIEWED)
    assert reads.count() == 80
    lanes = set(reads.values_list("lane", flat=True))
    assert len(lanes) > 1 if connection.vendor == "postgresql" else lanes == {1}


def test_a_head_is_rewritten_in_place_and_never_read_half_written(db) -> None:
    """The lane's head is one fixed-size write over the previous line (no new file, no
    rename); a reader takes the file's shared lock, so while writers rewrite it every read
    is a whole, signed checkpoint."""
    import threading

    directory = audit_checkpoints.audit_dir()
    path = directory / "head-3.json"
    path.write_text(json.dumps({"padding": "x" * 2000}))  # a longer line from before: cut to size
    audit_checkpoints.write_checkpoint(3, 1, "a" * 64, log=False)
    inode = path.stat().st_ino
    assert path.stat().st_size == audit_checkpoints.HEAD_SIZE
    done, seen = threading.Event(), []

    def write() -> None:
        for n in range(2, 400):
            audit_checkpoints.write_checkpoint(3, n, f"{n:064x}", log=False)
        done.set()

    writer = threading.Thread(target=write)
    writer.start()
    while not done.is_set():
        seen += [p for p in audit_checkpoints.read_checkpoints() if isinstance(p, str) or p.lane == 3]
    writer.join()
    assert seen and all(not isinstance(p, str) and p.valid for p in seen)
    assert [p.length for p in seen] == sorted(p.length for p in seen)  # only forward
    assert path.stat().st_ino == inode and next(iter(seen[-1:])).length <= 399
    final = [p for p in audit_checkpoints.read_checkpoints() if not isinstance(p, str) and p.lane == 3]
    assert [(p.length, p.head_hash) for p in final] == [(399, f"{399:064x}")]


def test_a_new_lanes_first_checkpoint_is_never_seen_empty(db) -> None:
    """A lane's first head appears whole (written aside and linked into place): a reader
    racing the first writers of new lanes never finds an empty or partial head, and nothing
    is left aside."""
    import threading

    directory = audit_checkpoints.audit_dir()
    done, seen = threading.Event(), []

    def write() -> None:
        for lane in range(20, 60):
            audit_checkpoints.write_checkpoint(lane, 1, f"{lane:064x}", log=False)
        done.set()

    writer = threading.Thread(target=write)
    writer.start()
    while not done.is_set():
        seen += list(audit_checkpoints.read_checkpoints())
    writer.join()
    assert all(not isinstance(p, str) and p.valid for p in seen)
    assert {p.lane for p in audit_checkpoints.read_checkpoints() if not isinstance(p, str)} >= set(range(20, 60))
    assert not list(directory.glob("*.tmp"))
