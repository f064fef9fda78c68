"""Reminders, pre-visit questionnaire links and next-day check-ins, on a controlled clock."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
import time_machine
from django.core import mail

from ketamine_clinic.services import outreach, schedule
from ketamine_clinic.services.errors import Conflict, InvalidInput
from ketamine_clinic.services.jobs import run_due_jobs
from ketamine_clinic.storage.models import (
    Alert,
    Assessment,
    AuditEvent,
    CheckIn,
    EventType,
    OutreachMessage,
    Patient,
    PatientLink,
    SmsOutbox,
)
from tests.services.test_workflow import _complete

PHONE, EMAIL = "+15555550123", "pat@example.invalid"
PHQ9 = {"phq9": [1, 1, 1, 1, 1, 1, 1, 1, 0]}


@pytest.fixture
def reachable(course, patient, settings):  # type: ignore[no-untyped-def]
    """The course's patient with a phone and an e-mail, and messages e-mailed in memory."""
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    Patient.objects.filter(pk=patient.pk).update(phone=PHONE, email=EMAIL)
    return course


def _first_visit(course):  # type: ignore[no-untyped-def]
    return course.visits.order_by("starts_at").first()


def _token(body: str) -> str:
    found = re.search(r"/q/([A-Za-z0-9_-]+)/", body)
    assert found, body
    return found.group(1)


def test_a_reminder_goes_by_email_and_sms_at_each_lead_time_once(reachable) -> None:
    visit = _first_visit(reachable)
    with time_machine.travel(visit.starts_at - timedelta(hours=49), tick=False):
        assert outreach.sweep().created == 0
    with time_machine.travel(visit.starts_at - timedelta(hours=47), tick=False):
        first = outreach.sweep()
        again = outreach.sweep()
    # a 48-hour reminder and the pre-visit link, each by e-mail and SMS
    assert (first.created, first.sent) == (4, 4) and (again.created, again.sent) == (0, 0)
    with time_machine.travel(visit.starts_at - timedelta(hours=1), tick=False):
        assert outreach.sweep().sent == 2  # the 2-hour reminder
    reminders = OutreachMessage.objects.filter(visit=visit, kind="reminder", status="sent")
    assert sorted(reminders.values_list("lead_hours", "channel")) == [
        (2, "email"), (2, "sms"), (48, "email"), (48, "sms"),
    ]  # fmt: skip
    assert SmsOutbox.objects.filter(to=PHONE).count() == 3 and len(mail.outbox) == 3
    assert AuditEvent.objects.filter(event_type=EventType.OUTREACH_SENT).count() == 6


def test_no_message_names_the_patient_or_the_treatment(reachable, patient) -> None:
    from ketamine_clinic.storage.models import PracticeSettings

    PracticeSettings.objects.create(sender_name="Riverside Health")
    visit = _first_visit(reachable)
    with time_machine.travel(visit.starts_at - timedelta(hours=47), tick=False):
        outreach.sweep()
    texts = [m.body for m in mail.outbox] + [m.subject for m in mail.outbox] + [s.body for s in SmsOutbox.objects.all()]
    assert texts and all(t.startswith("Riverside Health") for t in texts)
    for text in texts:
        for name in (patient.given_name, patient.family_name, patient.mrn):
            assert not re.search(rf"\b{re.escape(name)}\b", text), (name, text)
        for private in ("ketamine", "phq", " mg", "depress", "infusion", "score"):
            assert private not in text.lower(), (private, text)
    token = _token(SmsOutbox.objects.filter(body__contains="/q/").get().body)
    assert PatientLink.objects.get().token_digest != token and len(token) >= 40


def test_a_visit_moved_after_its_reminder_was_due_is_not_reminded_at_the_old_time(reachable, front_desk) -> None:
    visit = _first_visit(reachable)
    with time_machine.travel(visit.starts_at - timedelta(hours=47), tick=False):
        outreach.sweep()
        schedule.do_cancel_visit(visit, reason="patient unwell", acting_user=front_desk)
    with time_machine.travel(visit.starts_at - timedelta(hours=1), tick=False):
        result = outreach.sweep()
    assert result.sent == 0
    assert not OutreachMessage.objects.filter(visit=visit, lead_hours=2).exists()


def test_the_worker_runs_the_sweep_and_schedules_the_next(reachable) -> None:
    visit = _first_visit(reachable)
    with time_machine.travel(visit.starts_at - timedelta(hours=30), tick=False):
        assert outreach.ensure_outreach_sweep() is True
        assert outreach.ensure_outreach_sweep() is False  # one chain, however many workers start
        assert run_due_jobs() == 1
        assert SmsOutbox.objects.count() == 2
    with time_machine.travel(visit.starts_at - timedelta(hours=30) + outreach.SWEEP_EVERY, tick=False):
        assert run_due_jobs() == 1  # the next sweep ran; nothing new to send
    assert SmsOutbox.objects.count() == 2


def test_a_failing_sms_gateway_is_retried_and_the_error_kept(reachable, settings) -> None:
    settings.KC_SMS_BACKEND = "tests.services.test_outreach.BrokenGateway"
    visit = _first_visit(reachable)
    with time_machine.travel(visit.starts_at - timedelta(hours=47), tick=False):
        result = outreach.sweep()
    assert result.failed == 2
    failed = OutreachMessage.objects.filter(channel="sms")
    assert all(m.status == "pending" and "gateway down" in m.error for m in failed)
    settings.KC_SMS_BACKEND = "ketamine_clinic.services.sms.OutboxBackend"
    with time_machine.travel(visit.starts_at - timedelta(hours=46), tick=False):
        assert outreach.sweep().sent == 2


class BrokenGateway:
    def send(self, to, body, *, at):  # type: ignore[no-untyped-def]
        raise ConnectionError("gateway down")


def _previsit_link(course):  # type: ignore[no-untyped-def]
    visit = _first_visit(course)
    with time_machine.travel(visit.starts_at - timedelta(hours=40), tick=False):
        outreach.sweep()
    return visit, _token(SmsOutbox.objects.filter(body__contains="/q/").get().body)


def test_a_previsit_link_records_the_phq9_as_the_patients_own_once(reachable, patient, patient_user) -> None:
    visit, token = _previsit_link(reachable)
    at = visit.starts_at - timedelta(hours=3)
    link = outreach.link_for_token(token, now=at)
    rows = outreach.do_submit_questionnaires(link, PHQ9, now=at)
    assert [(r.instrument, r.total, r.visit_id, r.recorded_by_id) for r in rows] == [
        ("phq9", 8, visit.pk, patient_user.pk)
    ]
    with pytest.raises(Conflict, match="already used"):
        outreach.link_for_token(token, now=at)
    with pytest.raises(Conflict, match="already used"):
        outreach.do_submit_questionnaires(link, PHQ9, now=at)
    assert Assessment.objects.filter(visit=visit).count() == 1


def test_a_previsit_link_expires_when_the_visit_starts(reachable) -> None:
    visit, token = _previsit_link(reachable)
    outreach.link_for_token(token, now=visit.starts_at - timedelta(seconds=1))
    with pytest.raises(Conflict, match="expired"):
        outreach.link_for_token(token, now=visit.starts_at)


def test_a_missing_answer_saves_nothing_and_keeps_the_link(reachable) -> None:
    visit, token = _previsit_link(reachable)
    at = visit.starts_at - timedelta(hours=3)
    link = outreach.link_for_token(token, now=at)
    with pytest.raises(InvalidInput, match="PHQ-9.*item 3") as error:
        outreach.do_submit_questionnaires(link, {"phq9": [1, 1, None, 1, 1, 1, 1, 1, 0]}, now=at)
    assert error.value.field == "phq9-item_3"
    assert not Assessment.objects.filter(visit=visit).exists()
    assert outreach.link_for_token(token, now=at).used_at is None


def test_a_patient_without_a_portal_account_gets_reminders_but_no_link(reachable, patient) -> None:
    Patient.objects.filter(pk=patient.pk).update(user=None)
    visit = _first_visit(reachable)
    with time_machine.travel(visit.starts_at - timedelta(hours=40), tick=False):
        outreach.sweep()
    assert set(OutreachMessage.objects.values_list("kind", flat=True)) == {"reminder"}
    assert not PatientLink.objects.exists()


def test_the_day_after_an_infusion_a_check_in_link_goes_out_and_a_worrying_answer_alerts(
    reachable, prescriber, crna, nurse, patient
) -> None:
    visit = _first_visit(reachable)
    with time_machine.travel(visit.starts_at - timedelta(hours=3), tick=False):
        _complete(visit, prescriber, crna, nurse, patient, 12)
    next_day = visit.starts_at.replace(hour=10) + timedelta(days=1)
    with time_machine.travel(next_day - timedelta(minutes=5), tick=False):
        outreach.sweep()
        assert not OutreachMessage.objects.filter(kind="checkin").exists()
    with time_machine.travel(next_day + timedelta(minutes=5), tick=False):
        outreach.sweep()
    message = OutreachMessage.objects.filter(kind="checkin", channel="sms").get()
    token = _token(message.body)
    at = next_day + timedelta(hours=2)
    link = outreach.link_for_token(token, now=at)
    with pytest.raises(InvalidInput, match="mood"):
        outreach.do_record_check_in(link, mood=None, effects=[], note="", now=at)
    row = outreach.do_record_check_in(link, mood=1, effects=["urinary", "insomnia"], note="slept badly", now=at)
    assert (row.visit_id, row.mood, row.effects) == (visit.pk, 1, ["urinary", "insomnia"])
    alert = Alert.objects.get(kind="check_in")
    assert "Urinary" in alert.message and alert.severity == "notify"
    with pytest.raises(Conflict):
        outreach.link_for_token(token, now=at)
    assert CheckIn.objects.count() == 1
    with pytest.raises(Conflict, match="already used|expired"):
        outreach.link_for_token(token, now=next_day + timedelta(hours=49))
