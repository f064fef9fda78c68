"""services.audit_verification: the whole trail verified on the task worker."""

from __future__ import annotations

import pytest
from django.utils import timezone

from ketamine_clinic.services import audit_verification
from ketamine_clinic.services.errors import NotAllowed
from ketamine_clinic.services.jobs import run_due_jobs
from ketamine_clinic.storage.models import AuditEvent
from tests.support.tamper import as_database_owner


def test_one_verification_is_queued_and_its_report_kept(admin, patient, django_capture_on_commit_callbacks) -> None:
    assert audit_verification.last_verification().report is None
    with django_capture_on_commit_callbacks(execute=True):
        assert audit_verification.do_request_verification(acting_user=admin, at=timezone.now()) is True
    assert audit_verification.do_request_verification(acting_user=admin, at=timezone.now()) is False  # one at a time
    assert audit_verification.last_verification().pending
    assert run_due_jobs() == 1
    done = audit_verification.last_verification()
    assert not done.pending and done.report is not None
    assert done.report["ok"] is True and done.report["checked"] == AuditEvent.objects.count()
    assert done.report["seconds"] >= 0 and done.finished_at is not None
    assert audit_verification.do_request_verification(acting_user=admin, at=timezone.now()) is True  # again later


def test_a_broken_trail_is_reported_by_the_worker(admin, patient, django_capture_on_commit_callbacks) -> None:
    event = AuditEvent.objects.order_by("id").first()
    with as_database_owner():
        AuditEvent.objects.filter(pk=event.pk).update(actor_label="someone else")  # edited behind the application
    with django_capture_on_commit_callbacks(execute=True):
        audit_verification.do_request_verification(acting_user=admin, at=timezone.now())
    run_due_jobs()
    report = audit_verification.last_verification().report
    assert report is not None and report["ok"] is False and report["broken_id"] == event.pk


def test_only_the_roles_that_read_the_trail_may_queue_it(nurse) -> None:
    with pytest.raises(NotAllowed):
        audit_verification.do_request_verification(acting_user=nurse, at=timezone.now())


def test_a_run_that_fails_is_reported_and_a_dead_run_does_not_block_the_button(
    admin, patient, django_capture_on_commit_callbacks, monkeypatch
) -> None:
    from datetime import timedelta

    def unreadable() -> None:
        raise UnicodeDecodeError("utf-8", b"\xff", 0, 1, "invalid start byte")

    monkeypatch.setattr(audit_verification, "verify_chain", unreadable)
    with django_capture_on_commit_callbacks(execute=True):
        audit_verification.do_request_verification(acting_user=admin, at=timezone.now())
    run_due_jobs()
    failed = audit_verification.last_verification()
    assert failed.report is not None and failed.report["ok"] is False and not failed.pending
    assert "could not finish" in failed.report["reason"]
    long_ago = timezone.now() - audit_verification.STALE_AFTER - timedelta(minutes=1)
    assert audit_verification.do_request_verification(acting_user=admin, at=long_ago) is True  # queued, never run
    assert not audit_verification.last_verification().pending  # the page offers the button again
    assert audit_verification.do_request_verification(acting_user=admin, at=timezone.now()) is True
