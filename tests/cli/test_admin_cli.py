from __future__ import annotations

import io

import pytest

from ketamine_clinic.cli.main import main
from ketamine_clinic.demo import DEMO_STAFF, load_demo
from ketamine_clinic.services import audit_checkpoints
from ketamine_clinic.storage.models import AuditChainHead, AuditEvent, Patient, User, VitalSign
from tests.support.tamper import as_database_owner


def test_audit_verify_passes_on_an_intact_trail(db, patient, capsys) -> None:
    assert main(["audit", "verify"]) == 0
    assert "Audit trail intact" in capsys.readouterr().out


def test_audit_verify_names_the_altered_row(db, patient, capsys) -> None:
    row = AuditEvent.objects.order_by("id")[1]
    with as_database_owner():
        AuditEvent.objects.filter(pk=row.pk).update(actor_label="someone else")
    assert main(["audit", "verify"]) == 1
    assert f"BROKEN at event #{row.pk}" in capsys.readouterr().err


def test_user_add_reads_the_password_from_stdin(db, monkeypatch, capsys) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO("a-long-password\n"))
    assert main(["user", "add", "rn2", "--role", "rn", "--password-stdin"]) == 0
    assert User.objects.get(username="rn2").check_password("a-long-password")


def test_user_add_rejects_a_short_password_naming_the_field(db, monkeypatch, capsys) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO("short\n"))
    assert main(["user", "add", "rn2", "--role", "rn"]) == 2
    assert "password:" in capsys.readouterr().err


def test_user_add_refuses_an_unknown_role(db) -> None:
    with pytest.raises(SystemExit):
        main(["user", "add", "rn2", "--role", "nurse"])


def test_the_demo_loads_once_and_keeps_its_data(db) -> None:
    assert load_demo() is True
    count = Patient.objects.count()
    assert load_demo() is False
    assert Patient.objects.count() == count
    assert User.objects.filter(username__in=[s[0] for s in DEMO_STAFF]).count() == len(DEMO_STAFF)


def test_the_demo_trail_verifies_with_no_clinical_differences(db, capsys) -> None:
    load_demo()
    assert main(["audit", "checkpoint"]) == 0
    assert main(["audit", "verify"]) == 0, capsys.readouterr().err
    assert "checkpoint(s); clinical entries match" in capsys.readouterr().out


def test_audit_verify_reports_the_three_attacks_of_the_review(running_session, capsys) -> None:
    assert main(["audit", "checkpoint"]) == 0
    vital = VitalSign.objects.filter(session=running_session).first()
    VitalSign.objects.filter(pk=vital.pk).update(systolic_mmhg=90)  # a direct edit
    tail = AuditEvent.objects.order_by("-id").first()
    with as_database_owner():
        tail.delete()  # the tail cut, with the head moved to match
        survivor = AuditEvent.objects.order_by("-id").first()
        AuditChainHead.objects.filter(singleton=1).update(
            last_hash=survivor.row_hash, length=AuditEvent.objects.count()
        )
    assert main(["audit", "verify"]) == 1
    err = capsys.readouterr().err
    assert f"VitalSign #{vital.pk} differs from its audited values" in err
    assert "rows were cut from the end" in err


def test_audit_verify_reports_a_rechained_trail(running_session, capsys) -> None:
    from tests.services.test_audit_tamper import _rechain_from

    first = AuditEvent.objects.order_by("id")[3]
    with as_database_owner():
        AuditEvent.objects.filter(pk=first.pk).update(actor_label="someone else")
    _rechain_from(first.pk)
    assert main(["audit", "verify"]) == 1
    assert f"BROKEN at event #{first.pk}: its MAC does not match" in capsys.readouterr().err


def test_audit_checkpoint_mails_the_signed_head(db, patient, settings, mailoutbox, capsys) -> None:
    settings.KC_AUDIT_CHECKPOINT_EMAIL = "privacy@clinic.example"
    assert main(["audit", "checkpoint", "--mail"]) == 0
    assert mailoutbox[0].to == ["privacy@clinic.example"]
    point = next(audit_checkpoints.read_checkpoints())
    assert not isinstance(point, str) and point.head_hash in mailoutbox[0].body
