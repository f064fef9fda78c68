"""Races on PostgreSQL: many submissions at once, two workers at once."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import date

import pytest
from django.core import mail
from django.db import connection
from django.utils import timezone

from ketamine_clinic.services import measures
from ketamine_clinic.services.accounts import do_create_user
from ketamine_clinic.services.jobs import run_due_jobs
from ketamine_clinic.services.patients import do_create_patient
from ketamine_clinic.storage.models import Alert, Notification

pytestmark = [pytest.mark.postgresql, pytest.mark.django_db(transaction=True)]


def _race(workers: list[Callable[[], object]]) -> list[BaseException]:
    errors: list[BaseException] = []
    barrier = threading.Barrier(len(workers))

    def run(fn: Callable[[], object]) -> None:
        try:
            barrier.wait()
            fn()
        except BaseException as exc:  # collected and asserted by the test
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(fn,)) for fn in workers]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return errors


def _patient(n: int):  # type: ignore[no-untyped-def]
    user = do_create_user(f"racer{n}", "patient", "persona-password-42", acting_user=None)
    return do_create_patient(
        mrn=f"R-{n:04d}",
        given_name="Race",
        family_name=f"Patient{n}",
        birth_date=date(1980, 1, 1),
        sex="female",
        at=timezone.now(),
        user=user,
        acting_user=None,
    )


def test_simultaneous_urgent_answers_open_exactly_one_alert() -> None:
    do_create_user("p1", "prescriber", "persona-password-42", acting_user=None, email="p1@clinic.test")
    patient = _patient(1)
    answers = [1, 1, 1, 1, 1, 1, 1, 1, 3]
    errors = _race(
        [
            lambda: measures.do_record_assessment(patient, "phq9", answers, at=timezone.now(), acting_user=patient.user)
            for _ in range(8)
        ]
    )
    assert errors == []
    (alert,) = Alert.objects.filter(patient=patient, kind="suicide_risk", acknowledged_at=None)
    assert len(alert.findings) == 8


def test_two_workers_never_send_the_same_message_twice() -> None:
    for n in range(3):
        do_create_user(f"p{n}", "prescriber", "persona-password-42", acting_user=None, email=f"p{n}@clinic.test")
    alerts = []
    for n in range(6):
        patient = _patient(n)
        measures.do_record_assessment(patient, "phq9", [0] * 8 + [2], at=timezone.now(), acting_user=patient.user)
        alerts.append(Alert.objects.get(patient=patient))
    errors = _race([lambda: run_due_jobs(worker_id="worker-a"), lambda: run_due_jobs(worker_id="worker-b")])
    assert errors == []
    urgent = [m for m in mail.outbox if m.subject.startswith("URGENT")]
    assert len(urgent) == 6 * 3
    assert sorted((m.to[0], m.subject) for m in urgent) == sorted({(m.to[0], m.subject) for m in urgent})
    assert Notification.objects.filter(kind="urgent", sent_at__isnull=False).count() == 18
