"""At rest and in logs: private files, access logs without query strings, and a backup
that restores into a fresh directory and passes ``audit verify``."""

from __future__ import annotations

import datetime
import os
import sqlite3
import stat
import subprocess
import sys
import types
from pathlib import Path

import pytest
from django.db import connection
from gunicorn.config import Config
from gunicorn.glogging import Logger

from ketamine_clinic.cli.admin import ACCESS_LOG_FORMAT, gunicorn_argv
from ketamine_clinic.cli.backup import backup, secure_data_dir
from ketamine_clinic.cli.main import main
from ketamine_clinic.storage.models import VitalSign


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_the_data_directory_is_made_private(tmp_path) -> None:
    data = tmp_path / "var"
    (data / "outbox").mkdir(parents=True)
    (data / "kclinic.sqlite3").write_text("x")
    (data / "outbox" / "mail.log").write_text("x")
    os.chmod(data, 0o755)
    os.chmod(data / "kclinic.sqlite3", 0o644)
    secure_data_dir(data)
    assert _mode(data) == 0o700 and _mode(data / "outbox") == 0o700
    assert _mode(data / "kclinic.sqlite3") == 0o600 and _mode(data / "outbox" / "mail.log") == 0o600


def test_the_kclinic_command_creates_files_private(db, tmp_path, settings) -> None:
    before = os.umask(0o022)
    try:
        assert main(["audit", "checkpoint"]) == 0
        assert os.umask(0o022) == 0o077
    finally:
        os.umask(before)


def test_the_access_log_has_no_query_string_and_no_referrer() -> None:
    argv = gunicorn_argv("gunicorn", "127.0.0.1:8000", 2)
    assert argv[argv.index("--access-logformat") + 1] == ACCESS_LOG_FORMAT
    cfg = Config()
    cfg.set("access_log_format", ACCESS_LOG_FORMAT)
    environ = {
        "REQUEST_METHOD": "GET",
        "RAW_URI": "/clinic/patients/?q=Smith",
        "PATH_INFO": "/clinic/patients/",
        "QUERY_STRING": "q=Smith",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "192.0.2.1",
        "HTTP_REFERER": "http://clinic/clinic/patients/?q=Jones",
    }
    response = types.SimpleNamespace(status="200 OK", response_length=10, headers=[], sent=10)
    request = types.SimpleNamespace(headers=[("REFERER", environ["HTTP_REFERER"])])
    line = ACCESS_LOG_FORMAT % Logger(cfg).atoms(response, request, environ, datetime.timedelta(seconds=0.01))
    assert "GET /clinic/patients/ HTTP/1.1" in line
    assert "Smith" not in line and "Jones" not in line and "q=" not in line


def _kclinic(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "ketamine_clinic.cli.main", *args],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.fixture
def restore_target(tmp_path, settings):  # type: ignore[no-untyped-def]
    """A fresh data directory (and, on PostgreSQL, a fresh database) to restore into."""
    env = {
        "KC_DATA_DIR": str(tmp_path / "restored"),
        "KC_DEBUG": "0",
        "KC_SECRET_KEY": "restore-test-secret-0123456789abcdefghij",
        "KC_AUDIT_KEY": settings.KC_AUDIT_KEY,
        "KC_DATABASE_URL": "",
    }
    if connection.vendor != "postgresql":
        yield env
        return
    db = settings.DATABASES["default"]
    name = f"{db['NAME']}_restore"
    base = f"postgres://{db['USER']}@{db['HOST']}:{db['PORT'] or 5432}"
    admin = [f"{base}/postgres"]
    subprocess.run(
        ["psql", "-q", *admin, "-c", f"DROP DATABASE IF EXISTS {name}", "-c", f"CREATE DATABASE {name}"], check=True
    )
    env["KC_DATABASE_URL"] = f"{base}/{name}"
    yield env
    subprocess.run(["psql", "-q", *admin, "-c", f"DROP DATABASE IF EXISTS {name}"], check=True)


def test_a_backup_restores_into_a_fresh_directory_and_verifies(
    transactional_db, running_session, tmp_path, restore_target
) -> None:  # noqa: E501
    saved = backup(tmp_path / "backup")
    assert _mode(saved) == 0o700
    assert all(_mode(p) == 0o600 for p in saved.rglob("*") if p.is_file())
    env = restore_target
    if not env["KC_DATABASE_URL"]:
        del env["KC_DATABASE_URL"]
    restored = _kclinic(env, "restore", str(saved))
    assert restored.returncode == 0, restored.stderr
    verify = _kclinic(env, "audit", "verify")
    assert verify.returncode == 0, verify.stderr
    assert "Audit trail intact" in verify.stdout
    assert _mode(Path(env["KC_DATA_DIR"])) == 0o700
    again = _kclinic(env, "restore", str(saved))
    assert again.returncode == 1 and "not empty" in again.stderr
    # the restored copy is as tamper-evident as the original
    vital = VitalSign.objects.filter(session=running_session).first()
    if connection.vendor == "postgresql":
        url = env["KC_DATABASE_URL"]
        subprocess.run(
            ["psql", "-q", url, "-c", f"UPDATE kc_vital_sign SET systolic_mmhg = 90 WHERE id = {vital.pk}"], check=True
        )
    else:
        with sqlite3.connect(Path(env["KC_DATA_DIR"]) / "kclinic.sqlite3") as db:
            db.execute("UPDATE kc_vital_sign SET systolic_mmhg = 90 WHERE id = ?", (vital.pk,))
    broken = _kclinic(env, "audit", "verify")
    assert broken.returncode == 1 and f"VitalSign #{vital.pk} differs" in broken.stderr


def test_a_database_created_by_kclinic_is_readable_by_its_owner_only(tmp_path, settings) -> None:
    data = tmp_path / "var"
    data.mkdir(mode=0o755)
    env = {
        "KC_DATA_DIR": str(data),
        "KC_DEBUG": "0",
        "KC_SECRET_KEY": "perm-test-secret-0123456789abcdefghijklmn",
        "KC_AUDIT_KEY": settings.KC_AUDIT_KEY,
        "KC_DATABASE_URL": "",
    }
    done = _kclinic(env, "manage", "migrate", "--noinput", "-v", "0")
    assert done.returncode == 0, done.stderr
    assert _mode(data / "kclinic.sqlite3") == 0o600
    assert all(_mode(p) == 0o600 for p in data.glob("kclinic.sqlite3*"))
