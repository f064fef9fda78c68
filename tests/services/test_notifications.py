"""services.notifications: who hears of an alert away from the chair, and only once."""

from __future__ import annotations

from datetime import timedelta

import time_machine
from django.core import mail

from ketamine_clinic.domain import chairside
from ketamine_clinic.services import alerts, notifications, sessions
from ketamine_clinic.services.accounts import do_create_user
from ketamine_clinic.services.jobs import run_due_jobs
from ketamine_clinic.storage.models import Alert, Notification
from tests.conftest import VITALS, complete_checklist


def _on_call(admin, at):  # type: ignore[no-untyped-def]
    person = do_create_user("oncall9", "prescriber", "persona-password-42", acting_user=None, email="oc@clinic.test")
    notifications.do_add_on_call_shift(
        person, starts_at=at - timedelta(hours=1), ends_at=at + timedelta(hours=12), at=at, acting_user=admin
    )
    return person


def _running(verified_order, nurse, crna):  # type: ignore[no-untyped-def]
    t = verified_order.visit.starts_at
    session = sessions.do_open_session(verified_order.visit, at=t, acting_user=nurse)
    complete_checklist(session, items={n: True for n, _ in chairside.CHECKLIST}, vitals=VITALS, at=t, acting_user=nurse)
    sessions.do_record_pump_event(session, "start", rate_ml_per_h=None, at=t + timedelta(minutes=1), acting_user=crna)
    return session, t


def test_a_stop_level_reading_reaches_the_on_call_prescriber_without_patient_details(
    verified_order, nurse, crna, admin, patient
) -> None:
    session, t = _running(verified_order, nurse, crna)
    with time_machine.travel(t + timedelta(minutes=5), tick=False):
        _on_call(admin, t)
        sessions.do_record_vitals(
            session, {**VITALS, "spo2_percent": 84}, at=t + timedelta(minutes=5), acting_user=nurse
        )
        alert = Alert.objects.get(patient=patient, severity="stop", acknowledged_at=None)
        assert run_due_jobs() == 1
    assert [m.to for m in mail.outbox] == [["oc@clinic.test"]]
    message = mail.outbox[0]
    assert message.subject.startswith("STOP alert") and f"/clinic/alerts/{alert.pk}/" in message.body
    assert patient.family_name not in message.body + message.subject and patient.mrn not in message.body
    assert Notification.objects.filter(alert=alert, kind="chairside", sent_at__isnull=False).count() == 1


def test_a_repeat_reading_joins_the_open_alert_and_sends_nothing_more(verified_order, nurse, crna, admin) -> None:
    session, t = _running(verified_order, nurse, crna)
    with time_machine.travel(t + timedelta(minutes=5), tick=False):
        _on_call(admin, t)
        for minute in (5, 8):
            sessions.do_record_vitals(
                session, {**VITALS, "spo2_percent": 88}, at=t + timedelta(minutes=minute), acting_user=nurse
            )
        assert run_due_jobs() == 1
    assert len(mail.outbox) == 1 and mail.outbox[0].subject.startswith("PAUSE alert")


def test_an_alert_acknowledged_before_the_worker_runs_sends_nothing(
    verified_order, nurse, crna, admin, patient
) -> None:
    session, t = _running(verified_order, nurse, crna)
    with time_machine.travel(t + timedelta(minutes=5), tick=False):
        _on_call(admin, t)
        sessions.do_record_vitals(
            session, {**VITALS, "spo2_percent": 88}, at=t + timedelta(minutes=5), acting_user=nurse
        )
        alert = Alert.objects.get(patient=patient, severity="pause", acknowledged_at=None)
        alerts.do_acknowledge_alert(
            alert, note="Pump paused, oxygen given, SpO2 back to 97 %", at=t + timedelta(minutes=6), acting_user=crna
        )
        run_due_jobs()
    assert mail.outbox == []


def test_a_notify_level_reading_pages_nobody(verified_order, nurse, crna, admin) -> None:
    session, t = _running(verified_order, nurse, crna)
    with time_machine.travel(t + timedelta(minutes=5), tick=False):
        _on_call(admin, t)
        sessions.do_record_vitals(
            session, {**VITALS, "heart_rate_bpm": 46}, at=t + timedelta(minutes=5), acting_user=nurse
        )
        assert run_due_jobs() == 0
    assert mail.outbox == []
