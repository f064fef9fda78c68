"""Scale-out on one PostgreSQL: two app servers (``kclinic serve --no-worker``, gunicorn) and
two job workers (``kclinic worker``) against the same database, under concurrent load.

Patients answer PHQ-9s with item 9 positive through both servers at once: every answer
must end up in its patient's single open suicide-risk alert (a lost update of the alert's
findings would drop one), every notification job must be claimed by exactly one worker
and every message sent once, and the audit chain written by four processes must verify.
"""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import threading
import time
import urllib.parse
from datetime import date
from http.client import HTTPConnection
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection
from django.test import override_settings
from django.utils import timezone

from ketamine_clinic.services import audit
from ketamine_clinic.services.accounts import do_create_user
from ketamine_clinic.services.patients import do_create_patient
from ketamine_clinic.storage.models import Alert, Assessment, Notification

pytestmark = [pytest.mark.postgresql, pytest.mark.slow, pytest.mark.django_db(transaction=True)]

PASSWORD = "two-instance-password-42"
PATIENTS = 4
ANSWERS_PER_CLIENT = 3
ARGON2 = ["django.contrib.auth.hashers.Argon2PasswordHasher"]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _env(data_dir: Path) -> dict[str, str]:
    db = connection.settings_dict
    url = f"postgres://{db['USER']}:{db['PASSWORD']}@{db['HOST']}:{db['PORT'] or 5432}/{db['NAME']}"
    env = {k: v for k, v in os.environ.items() if not k.startswith("KC_")}
    env.update(
        KC_DATABASE_URL=url,
        KC_DATA_DIR=str(data_dir),
        KC_SECRET_KEY=settings.SECRET_KEY,
        KC_AUDIT_KEY=settings.KC_AUDIT_KEY,
        KC_HTTPS="0",
        KC_DEBUG="0",
        KC_DEMO="1",
        KC_WORKERS="2",
        DJANGO_SETTINGS_MODULE="ketamine_clinic.web.settings",
    )
    return env


def _kclinic(*args: str, env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    with log.open("wb") as out:  # the child keeps its own copy of the descriptor
        return subprocess.Popen(
            [sys.executable, "-m", "ketamine_clinic.cli.main", *args], env=env, stdout=out, stderr=subprocess.STDOUT
        )


def _wait_for(port: int, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.3)
    raise AssertionError(f"nothing listens on {port}")


class _Browser:
    def __init__(self, port: int) -> None:
        self.port, self.cookies = port, {}  # type: ignore[var-annotated]

    def go(self, method: str, path: str, form: dict[str, str] | None = None) -> tuple[int, str]:
        conn = HTTPConnection("127.0.0.1", self.port, timeout=60)
        headers = {"Host": "127.0.0.1", "Cookie": "; ".join(f"{k}={v}" for k, v in self.cookies.items())}
        body = None
        if form is not None:
            body = urllib.parse.urlencode(form)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        conn.request(method, path, body=body, headers=headers)
        response = conn.getresponse()
        text = response.read().decode()
        for name, value in response.getheaders():
            if name.lower() == "set-cookie":
                key, _, rest = value.partition("=")
                self.cookies[key] = rest.split(";", 1)[0]
        conn.close()
        return response.status, text


def _tokens(html: str) -> dict[str, str]:
    csrf = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html)
    once = re.search(r'name="form_token" value="([^"]*)"', html)
    return {"csrfmiddlewaretoken": csrf.group(1) if csrf else "", "form_token": once.group(1) if once else ""}


def _answer_phq9(port: int, username: str, outcomes: list[tuple[str, int]]) -> None:
    browser = _Browser(port)
    _, page = browser.go("GET", "/login/")
    status, _ = browser.go("POST", "/login/", {**_tokens(page), "username": username, "password": PASSWORD})
    assert status == 302, f"{username} could not log in on {port}"
    for _ in range(ANSWERS_PER_CLIENT):
        _, page = browser.go("GET", "/me/questionnaires/phq9/")
        answers = {f"item_{i}": "1" for i in range(1, 10)}  # item 9 positive: urgent
        status, text = browser.go("POST", "/me/questionnaires/phq9/", {**_tokens(page), **answers})
        outcomes.append((username, status))


def _stop(processes: list[subprocess.Popen[bytes]]) -> None:
    for p in processes:
        if p.poll() is None:
            p.terminate()
    for p in processes:
        try:
            p.wait(timeout=20)
        except subprocess.TimeoutExpired:
            p.kill()


def test_two_app_servers_and_two_workers_lose_no_update_and_run_no_job_twice(tmp_path) -> None:
    with override_settings(PASSWORD_HASHERS=ARGON2):
        do_create_user("oncall", "prescriber", PASSWORD, email="oncall@clinic.test", acting_user=None)
        for n in range(PATIENTS):
            user = do_create_user(f"scaler{n}", "patient", PASSWORD, acting_user=None)
            do_create_patient(
                mrn=f"S-{n:04d}",
                given_name="Scale",
                family_name=f"Patient{n}",
                birth_date=date(1980, 1, 1 + n),
                sex="female",
                at=timezone.now(),
                user=user,
                acting_user=None,
            )
    connection.close()  # the servers and workers open their own connections
    env = _env(tmp_path)
    ports = [_free_port(), _free_port()]
    processes = [
        *(
            _kclinic(
                "serve", "--no-migrate", "--no-worker", "--bind", f"127.0.0.1:{p}", env=env, log=tmp_path / f"s{p}"
            )
            for p in ports
        ),
        *(_kclinic("worker", "--interval", "0.2", env=env, log=tmp_path / f"w{n}.log") for n in range(2)),
    ]
    try:
        for p in ports:
            _wait_for(p)
        outcomes: list[tuple[str, int]] = []
        threads = [
            threading.Thread(target=_answer_phq9, args=(port, f"scaler{n}", outcomes))
            for n in range(PATIENTS)
            for port in ports  # each patient on both servers at once
        ]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert len(outcomes) == PATIENTS * len(ports) * ANSWERS_PER_CLIENT
        assert {status for _, status in outcomes} == {200}  # the crisis page, every time
        from django_tasks_db.models import DBTaskResult

        # the on-call messages (the escalations wait for the deadline, an hour away)
        jobs = DBTaskResult.objects.filter(task_path__endswith=".notify_urgent_alert")
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline and (
            not jobs.exists() or jobs.exclude(status__in=["SUCCESSFUL", "FAILED"]).exists()
        ):
            time.sleep(0.5)
    finally:
        _stop(processes)
    per_patient = 2 * ANSWERS_PER_CLIENT
    for n in range(PATIENTS):
        alerts = Alert.objects.filter(patient__mrn=f"S-{n:04d}", kind="suicide_risk")
        assert alerts.count() == 1, "one open alert per patient, whichever server took the answer"
        answered = Assessment.objects.filter(patient__mrn=f"S-{n:04d}", instrument="phq9").count()
        assert answered == per_patient
        assert len(alerts.get().findings) == per_patient, "an answer was lost from the alert"
    assert jobs.exists() and not jobs.exclude(status="SUCCESSFUL").exists()
    assert all(len(job.worker_ids) == 1 for job in jobs), "a job was claimed twice"
    sent = Notification.objects.filter(sent_at__isnull=False)
    assert sent.count() == Notification.objects.count() >= PATIENTS
    outbox = list((tmp_path / "outbox").glob("*.log"))
    messages = sum(f.read_text(errors="replace").count("Subject:") for f in outbox)
    assert messages == sent.count(), "a message was sent twice (or not at all)"
    assert audit.verify_chain().ok
