from __future__ import annotations

import io

import pytest

from ketamine_clinic.cli.main import main
from ketamine_clinic.services.demo import DEMO_STAFF, load_demo
from ketamine_clinic.storage.models import AuditEvent, Patient, User


def test_audit_verify_passes_on_an_intact_trail(db, patient, capsys) -> None:
    assert main(["audit", "verify"]) == 0
    assert "Audit trail intact" in capsys.readouterr().out


def test_audit_verify_names_the_altered_row(db, patient, capsys) -> None:
    row = AuditEvent.objects.order_by("id")[1]
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
