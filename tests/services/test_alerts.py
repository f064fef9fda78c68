"""The suicide-risk pathway in the services: enforcement, closing, notification, escalation."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.core import mail
from django.utils import timezone

from ketamine_clinic.domain import chairside
from ketamine_clinic.services import alerts, courses, intake, measures, notifications, orders, sessions
from ketamine_clinic.services.errors import Conflict, InvalidInput, NotAllowed
from ketamine_clinic.services.jobs import run_due_jobs
from ketamine_clinic.storage.models import Alert, Notification, SuicideRiskAssessment
from tests.conftest import MONDAY, VITALS, close_with_assessment, complete_checklist
from tests.support.rems import rems_on_site, rems_ready

URGENT_PHQ9 = [1, 1, 1, 1, 1, 1, 1, 1, 2]
NOTIFY_CSSRS = [1, 1, 0, 0, 0, 0, None]  # active ideation, no method, intent or plan


def _urgent(patient, who, at):  # type: ignore[no-untyped-def]
    measures.do_record_assessment(patient, "phq9", URGENT_PHQ9, at=at, acting_user=who)
    return Alert.objects.get(patient=patient, kind="suicide_risk", acknowledged_at=None)


# ---- enforcement: every dosing path, every state ----


def test_an_open_urgent_alert_blocks_pump_start_resume_and_discharge(
    verified_order, nurse, crna, prescriber, patient
) -> None:
    visit = verified_order.visit
    t = visit.starts_at
    session = sessions.do_open_session(visit, at=t, acting_user=nurse)
    complete_checklist(session, items={n: True for n, _ in chairside.CHECKLIST}, vitals=VITALS, at=t, acting_user=nurse)
    alert = _urgent(patient, nurse, t + timedelta(minutes=1))
    with pytest.raises(Conflict, match="urgent suicide-risk alert is open"):
        sessions.do_record_pump_event(
            session, "start", rate_ml_per_h=None, at=t + timedelta(minutes=2), acting_user=crna
        )
    alerts.do_claim_alert(alert, at=t + timedelta(minutes=3), acting_user=prescriber)
    with pytest.raises(Conflict, match="urgent suicide-risk alert is open"):  # taken is not closed
        sessions.do_record_pump_event(
            session, "start", rate_ml_per_h=None, at=t + timedelta(minutes=4), acting_user=crna
        )
    close_with_assessment(alert, prescriber, t + timedelta(minutes=10))
    sessions.do_record_pump_event(session, "start", rate_ml_per_h=None, at=t + timedelta(minutes=11), acting_user=crna)
    sessions.do_record_pump_event(session, "pause", rate_ml_per_h=None, at=t + timedelta(minutes=20), acting_user=crna)
    second = _urgent(patient, nurse, t + timedelta(minutes=21))
    with pytest.raises(Conflict, match="urgent suicide-risk alert is open"):
        sessions.do_record_pump_event(
            session, "resume", rate_ml_per_h=None, at=t + timedelta(minutes=22), acting_user=crna
        )
    sessions.do_record_pump_event(
        session, "stop", rate_ml_per_h=None, at=t + timedelta(minutes=23), acting_user=crna, reason="Urgent alert"
    )
    sessions.do_record_vitals(session, VITALS, at=t + timedelta(minutes=170), acting_user=nurse)
    with pytest.raises(Conflict, match="acknowledged"):
        sessions.do_discharge(
            session,
            padss=[2, 2, 2, 2, 2],
            dissociation_resolved=True,
            aftercare_given=True,
            aldrete=[2] * 5,
            escort_present=True,
            at=t + timedelta(hours=3),
            acting_user=nurse,
        )
    assert Alert.objects.get(pk=second.pk).acknowledged_at is None


def test_an_open_urgent_alert_blocks_every_nasal_device(
    recorded_intake, prescriber, crna, nurse, patient, chairs
) -> None:
    intake.do_decide_eligibility(recorded_intake, decision="eligible", note="", at=MONDAY, acting_user=prescriber)
    course = courses.do_plan_course(
        patient, protocol="esketamine_trd", start_date=MONDAY.date(), at=MONDAY, acting_user=prescriber
    )
    visit = course.visits.order_by("starts_at").first()
    rems_ready(patient, prescriber, MONDAY)
    order = orders.do_sign_nasal_order(visit, dose_mg=56, at=MONDAY, acting_user=prescriber)
    orders.do_verify_order(order, at=MONDAY, acting_user=nurse)
    t = visit.starts_at
    session = sessions.do_open_session(visit, at=t, acting_user=nurse)
    rems_on_site(session, prescriber, session.opened_at)
    complete_checklist(session, items={n: True for n, _ in chairside.CHECKLIST}, vitals=VITALS, at=t, acting_user=nurse)
    sessions.do_give_nasal_device(session, at=t + timedelta(minutes=1), acting_user=crna)
    alert = _urgent(patient, nurse, t + timedelta(minutes=3))
    with pytest.raises(Conflict, match="urgent suicide-risk alert is open"):
        sessions.do_give_nasal_device(session, at=t + timedelta(minutes=7), acting_user=crna)
    close_with_assessment(alert, prescriber, t + timedelta(minutes=20))
    sessions.do_give_nasal_device(session, at=t + timedelta(minutes=21), acting_user=crna)
    session.refresh_from_db()
    assert session.status == "observing"


def test_a_deferral_stops_dosing_for_the_rest_of_that_day(running_session, nurse, crna, prescriber, patient) -> None:
    t = running_session.started_at
    sessions.do_record_pump_event(
        running_session, "pause", rate_ml_per_h=None, at=t + timedelta(minutes=5), acting_user=crna
    )
    alert = _urgent(patient, nurse, t + timedelta(minutes=6))
    record = close_with_assessment(alert, prescriber, t + timedelta(minutes=15), disposition="defer")
    assert record.disposition == "defer"
    with pytest.raises(Conflict, match="defer today's treatment"):
        sessions.do_record_pump_event(
            running_session, "resume", rate_ml_per_h=None, at=t + timedelta(minutes=16), acting_user=crna
        )
    assert alerts.dose_block_reason(patient, at=t + timedelta(days=1)) is None


def test_a_notify_level_alert_does_not_block_dosing_but_must_be_acknowledged(
    running_session, nurse, crna, patient
) -> None:
    t = running_session.started_at
    measures.do_record_assessment(patient, "cssrs_screen", NOTIFY_CSSRS, at=t, acting_user=nurse)
    alert = Alert.objects.get(kind="suicide_risk")
    assert alert.severity == "notify" and "Q2" in alert.message and alert.ack_deadline_at is None
    assert alerts.dose_block_reason(patient, at=t) is None
    with pytest.raises(InvalidInput, match="10 to 2000"):
        alerts.do_acknowledge_alert(alert, note="ok.", at=t, acting_user=nurse)
    alerts.do_acknowledge_alert(
        alert, note="Discussed with patient; no plan; prescriber informed.", at=t, acting_user=nurse
    )


# ---- closing ----


@pytest.mark.parametrize("role", ["rn", "crna", "front_desk", "admin", "patient"])
def test_only_a_prescriber_takes_or_closes_an_urgent_alert(personas, patient, role) -> None:
    alert = _urgent(patient, personas["rn"], MONDAY)
    with pytest.raises(NotAllowed):
        alerts.do_claim_alert(alert, at=MONDAY, acting_user=personas[role])
    with pytest.raises(NotAllowed):
        close_with_assessment(alert, personas[role], MONDAY)
    with pytest.raises(NotAllowed):
        alerts.do_acknowledge_alert(alert, note="ok. nothing to do here", at=MONDAY, acting_user=personas[role])
    assert Alert.objects.get(pk=alert.pk).acknowledged_at is None


def test_the_assessment_needs_a_cssrs_that_day_and_every_answer(patient, nurse, prescriber) -> None:
    alert = _urgent(patient, nurse, MONDAY)
    old = measures.do_record_assessment(
        patient,
        "cssrs_screen",
        [0, 0, None, None, None, 0, None],
        at=MONDAY - timedelta(days=2),
        acting_user=prescriber,
    )
    today = measures.do_record_assessment(
        patient, "cssrs_screen", [0, 0, None, None, None, 0, None], at=MONDAY, acting_user=prescriber
    )
    base = {
        "cssrs_assessment_id": today.pk,
        "risk_level": "low",
        "safety_plan_reviewed": True,
        "disposition": "treat_today",
        "note": "Denies intent; protective factors; plan reviewed.",
        "assessed_at": MONDAY,
        "at": MONDAY,
        "acting_user": prescriber,
    }
    for change, field in [
        ({"cssrs_assessment_id": old.pk}, "cssrs"),
        ({"cssrs_assessment_id": None}, "cssrs"),
        ({"risk_level": ""}, "risk_level"),
        ({"disposition": "later"}, "disposition"),
        ({"safety_plan_reviewed": False}, "safety_plan_reviewed"),
        ({"note": "ok."}, "note"),
        ({"assessed_at": MONDAY + timedelta(hours=2)}, "assessed_at"),
    ]:
        with pytest.raises(InvalidInput) as error:
            alerts.do_close_suicide_alert(alert, **{**base, **change})  # type: ignore[arg-type]
        assert error.value.field == field
    assert not SuicideRiskAssessment.objects.exists()
    emergency = alerts.do_close_suicide_alert(
        alert, **{**base, "disposition": "emergency", "safety_plan_reviewed": False}
    )  # type: ignore[arg-type]
    assert emergency.disposition == "emergency"


def test_repeated_submissions_attach_to_the_one_open_alert(patient, patient_user, prescriber) -> None:
    prescriber.email = "p1@clinic.test"
    prescriber.save()
    for n in range(30):
        measures.do_record_assessment(
            patient, "phq9", URGENT_PHQ9, at=MONDAY + timedelta(seconds=n), acting_user=patient_user
        )
    alert = Alert.objects.get(patient=patient, kind="suicide_risk")
    assert len(alert.findings) == 30
    from django_tasks_db.models import DBTaskResult

    assert DBTaskResult.objects.filter(task_path__endswith="notify_urgent_alert").count() == 1
    run_due_jobs()
    assert Notification.objects.filter(alert=alert, kind="urgent").count() == 1
    assert len([m for m in mail.outbox if m.subject.startswith("URGENT")]) == 1


def test_a_notify_alert_joined_by_an_urgent_answer_becomes_urgent_and_starts_the_clock(
    patient, patient_user, prescriber
) -> None:
    measures.do_record_assessment(patient, "cssrs_screen", NOTIFY_CSSRS, at=MONDAY, acting_user=patient_user)
    measures.do_record_assessment(
        patient, "cssrs_screen", [1, 1, 1, 1, 1, 0, None], at=MONDAY + timedelta(minutes=5), acting_user=patient_user
    )
    alert = Alert.objects.get(patient=patient, kind="suicide_risk")
    assert alert.severity == "urgent" and "Q4" in alert.message and "Q5" in alert.message
    assert alert.ack_deadline_at == MONDAY + timedelta(minutes=65)


# ---- reaching a person ----


def test_an_urgent_alert_reaches_the_on_call_prescriber_at_once(patient, patient_user, prescriber, admin) -> None:
    from ketamine_clinic.services.accounts import do_create_user

    on_call = do_create_user(
        "oncall1", "prescriber", "persona-password-42", acting_user=None, email="oncall@clinic.test"
    )
    prescriber.email = "p1@clinic.test"
    prescriber.save()
    with time_machine.travel(MONDAY, tick=False):
        notifications.do_add_on_call_shift(
            on_call,
            starts_at=MONDAY - timedelta(hours=1),
            ends_at=MONDAY + timedelta(hours=12),
            at=MONDAY,
            acting_user=admin,
        )
        alert = _urgent(patient, patient_user, timezone.now())
        assert run_due_jobs() == 1  # the escalation waits for its deadline
    assert [m.to for m in mail.outbox] == [["oncall@clinic.test"]]
    message = mail.outbox[0]
    assert f"#{alert.pk}" in message.subject and f"/clinic/alerts/{alert.pk}/" in message.body
    assert patient.family_name not in message.body and patient.mrn not in message.body


def test_without_a_shift_the_medical_director_is_told(patient, patient_user, prescriber) -> None:
    from ketamine_clinic.services.accounts import do_create_user

    director = do_create_user(
        "director1", "prescriber", "persona-password-42", acting_user=None, email="md@clinic.test"
    )
    director.is_medical_director = True
    director.save()
    with time_machine.travel(MONDAY, tick=False):
        _urgent(patient, patient_user, timezone.now())
        run_due_jobs()
    assert [m.to for m in mail.outbox] == [["md@clinic.test"]]


def test_past_the_deadline_the_alert_escalates_to_every_prescriber(patient, patient_user, prescriber) -> None:
    from ketamine_clinic.services.accounts import do_create_user

    prescriber.email = "p1@clinic.test"
    prescriber.save()
    do_create_user("p2", "prescriber", "persona-password-42", acting_user=None, email="p2@clinic.test")
    with time_machine.travel(MONDAY, tick=False):
        alert = _urgent(patient, patient_user, timezone.now())
        run_due_jobs()
    assert len(mail.outbox) == 2  # no rota, no director: every prescriber is on call
    with time_machine.travel(MONDAY + timedelta(minutes=59), tick=False):
        assert run_due_jobs() == 0
        assert not Alert.objects.get(pk=alert.pk).is_overdue
    with time_machine.travel(MONDAY + timedelta(minutes=61), tick=False):
        assert run_due_jobs() == 1
        alert.refresh_from_db()
        assert alert.escalated_at is not None and alert.is_overdue
    subjects = [m.subject for m in mail.outbox[2:]]
    assert len(subjects) == 2 and all("OVERDUE" in s for s in subjects)


def test_a_taken_alert_does_not_escalate(patient, patient_user, prescriber) -> None:
    prescriber.email = "p1@clinic.test"
    prescriber.save()
    with time_machine.travel(MONDAY, tick=False):
        alert = _urgent(patient, patient_user, timezone.now())
        alerts.do_claim_alert(alert, at=timezone.now(), acting_user=prescriber)
    with time_machine.travel(MONDAY + timedelta(hours=2), tick=False):
        run_due_jobs()
    alert.refresh_from_db()
    assert alert.escalated_at is None and not alert.is_overdue
    assert [m.subject for m in mail.outbox if "OVERDUE" in m.subject] == []


def test_a_failed_send_is_retried(patient, patient_user, prescriber, settings) -> None:
    prescriber.email = "p1@clinic.test"
    prescriber.save()
    settings.EMAIL_BACKEND = "tests.services.test_alerts.FailingBackend"
    with time_machine.travel(MONDAY, tick=False):
        alert = _urgent(patient, patient_user, timezone.now())
        run_due_jobs()
    row = Notification.objects.get(alert=alert)
    assert row.sent_at is None and row.attempts == 1 and "relay refused" in row.last_error
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    with time_machine.travel(MONDAY + timedelta(minutes=2), tick=False):
        run_due_jobs()
    row.refresh_from_db()
    assert row.sent_at is not None and row.attempts == 2 and len(mail.outbox) == 1


class FailingBackend:
    def __init__(self, *args: object, **kwargs: object) -> None:
        pass

    def send_messages(self, messages: object) -> int:
        raise OSError("relay refused")


def test_a_session_cannot_be_closed_around_an_urgent_alert(verified_order, nurse, prescriber, patient) -> None:
    visit = verified_order.visit
    session = sessions.do_open_session(visit, at=visit.starts_at, acting_user=nurse)
    alert = _urgent(patient, nurse, visit.starts_at)
    with pytest.raises(Conflict, match="urgent suicide-risk alert is open"):
        sessions.do_close_session(session, reason="Patient wants to go home now", at=visit.starts_at, acting_user=nurse)
    close_with_assessment(alert, prescriber, visit.starts_at, disposition="defer")
    sessions.do_close_session(
        session, reason="Deferred after assessment; rebook", at=visit.starts_at, acting_user=nurse
    )


def test_low_risk_is_refused_against_a_high_risk_cssrs(patient, nurse, prescriber) -> None:
    alert = _urgent(patient, nurse, MONDAY)
    high = measures.do_record_assessment(
        patient, "cssrs_screen", [1, 1, 1, 1, 1, 1, 1], at=MONDAY, acting_user=prescriber
    )
    args = {
        "cssrs_assessment_id": high.pk,
        "safety_plan_reviewed": True,
        "disposition": "emergency",
        "note": "Intent and plan; escorted to the emergency department.",
        "assessed_at": MONDAY,
        "at": MONDAY,
        "acting_user": prescriber,
    }
    with pytest.raises(InvalidInput) as error:
        alerts.do_close_suicide_alert(alert, risk_level="low", **args)  # type: ignore[arg-type]
    assert error.value.field == "risk_level"
    alerts.do_close_suicide_alert(alert, risk_level="high", **args)  # type: ignore[arg-type]
