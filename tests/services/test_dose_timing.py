"""One infusion per patient at a time, on its day, never closer than the clinic allows."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from ketamine_clinic.domain import chairside
from ketamine_clinic.services import clinic, schedule, sessions
from ketamine_clinic.services.errors import Conflict, InvalidInput, NotAllowed
from ketamine_clinic.services.jobs import run_due_jobs
from ketamine_clinic.storage.models import Alert, AuditEvent, Chair, EventType, InfusionSession
from tests.conftest import VITALS, complete_checklist

CHECKLIST = {n: True for n, _ in chairside.CHECKLIST}


def _order(visit, prescriber, crna):  # type: ignore[no-untyped-def]
    from ketamine_clinic.services import orders

    order = orders.do_sign_order(
        visit,
        dose_mg_per_kg=0.5,
        duration_min=40,
        concentration_mg_per_ml=1,
        at=visit.starts_at - timedelta(days=1),
        acting_user=prescriber,
    )
    return orders.do_verify_order(order, at=visit.starts_at - timedelta(hours=20), acting_user=crna)


def _first_dose(verified_order, nurse, crna):  # type: ignore[no-untyped-def]
    visit = verified_order.visit
    t = visit.starts_at
    session = sessions.do_open_session(visit, at=t, acting_user=nurse)
    complete_checklist(session, items=CHECKLIST, vitals=VITALS, at=t, acting_user=nurse)
    sessions.do_record_pump_event(session, "start", rate_ml_per_h=None, at=t + timedelta(minutes=5), acting_user=crna)
    sessions.do_record_pump_event(session, "stop", rate_ml_per_h=None, at=t + timedelta(minutes=45), acting_user=crna)
    return session


def test_a_session_opens_only_on_its_visits_day(course, prescriber, crna, nurse) -> None:
    visits = list(course.visits.order_by("starts_at"))
    second = visits[1]
    _order(second, prescriber, crna)
    early = second.starts_at - timedelta(days=2)
    with pytest.raises(Conflict, match="booked for .* not today") as error:
        sessions.do_open_session(second, at=early, acting_user=nurse)
    assert "prescriber must move it" in error.value.message
    assert not InfusionSession.objects.filter(visit=second).exists()


def test_a_prescriber_moves_a_visit_to_today_with_a_reason(course, prescriber, crna, nurse, front_desk) -> None:
    second = list(course.visits.order_by("starts_at"))[1]
    _order(second, prescriber, crna)
    today = second.starts_at - timedelta(days=2) + timedelta(hours=2)
    with pytest.raises(NotAllowed):
        schedule.do_move_visit_to_today(second, reason="Patient travels on Friday", at=today, acting_user=nurse)
    with pytest.raises(InvalidInput) as error:
        schedule.do_move_visit_to_today(second, reason="travel", at=today, acting_user=prescriber)
    assert error.value.field == "reason"
    moved = schedule.do_move_visit_to_today(
        second, reason="Patient travels on Friday; agreed by phone", at=today, acting_user=prescriber
    )
    assert timezone.localdate(moved.starts_at) == timezone.localdate(today) and moved.starts_at >= today
    event = AuditEvent.objects.get(event_type=EventType.VISIT_MOVED_TO_TODAY)
    assert "Patient travels" in event.new_values["reason"]
    session = sessions.do_open_session(moved, at=moved.starts_at, acting_user=nurse)
    assert session.visit_id == second.pk


def test_no_second_session_while_one_is_open_and_no_dose_too_soon(verified_order, prescriber, crna, nurse) -> None:
    first = _first_dose(verified_order, nurse, crna)
    second = list(verified_order.visit.course.visits.order_by("starts_at"))[1]
    _order(second, prescriber, crna)
    booked = second.starts_at
    now = first.stopped_at + timedelta(minutes=39)
    reason = "Requested by the patient today"
    with pytest.raises(Conflict, match="Another session of this patient is open"):
        schedule.do_move_visit_to_today(second, reason=reason, at=now, acting_user=prescriber)
    first.refresh_from_db()
    sessions.do_close_session(first, reason="Patient left after observation; escort arrived", at=now, acting_user=nurse)
    with pytest.raises(Conflict) as error:
        schedule.do_move_visit_to_today(second, reason=reason, at=now, acting_user=prescriber)
    assert "The last dose was given" in error.value.message and "next may start from" in error.value.message
    assert "40 hours" in error.value.message
    second.refresh_from_db()
    assert second.starts_at == booked


def test_the_open_session_guard_holds_for_a_visit_already_on_the_same_day(
    verified_order, prescriber, crna, nurse
) -> None:
    first = _first_dose(verified_order, nurse, crna)
    second = list(verified_order.visit.course.visits.order_by("starts_at"))[1]
    _order(second, prescriber, crna)
    same_day = first.stopped_at + timedelta(minutes=39)
    other_chair = Chair.objects.exclude(pk=first.visit.chair_id).first()
    type(second).objects.filter(pk=second.pk).update(
        starts_at=same_day, ends_at=same_day + timedelta(hours=2), chair=other_chair
    )
    second.refresh_from_db()
    with pytest.raises(Conflict, match="Another session of this patient is open"):
        sessions.do_open_session(second, at=same_day, acting_user=nurse)
    first.refresh_from_db()
    sessions.do_close_session(
        first, reason="Patient left after observation; escort arrived", at=same_day, acting_user=nurse
    )
    with pytest.raises(Conflict, match="The last dose was given"):
        sessions.do_open_session(second, at=same_day, acting_user=nurse)


def test_the_minimum_interval_is_the_clinic_setting(verified_order, prescriber, crna, nurse, admin) -> None:
    first = _first_dose(verified_order, nurse, crna)
    sessions.do_close_session(first, reason="Patient left after observation", at=first.stopped_at, acting_user=nurse)
    second = list(verified_order.visit.course.visits.order_by("starts_at"))[1]
    _order(second, prescriber, crna)
    clinic.do_update_clinic_rules({"min_hours_between_infusions": 72}, acting_user=None)
    gap = second.starts_at - first.started_at
    assert timedelta(hours=40) <= gap < timedelta(hours=72)
    with pytest.raises(Conflict, match="72 hours apart"):
        sessions.do_open_session(second, at=second.starts_at, acting_user=nurse)


def test_closing_without_discharge_needs_a_reason_and_a_stopped_pump(running_session, nurse, crna) -> None:
    with pytest.raises(InvalidInput):
        sessions.do_close_session(running_session, reason="left", at=running_session.started_at, acting_user=nurse)
    with pytest.raises(Conflict, match="Stop the pump"):
        sessions.do_close_session(
            running_session, reason="Patient wants to leave now", at=running_session.started_at, acting_user=nurse
        )
    t = running_session.started_at + timedelta(minutes=20)
    sessions.do_record_pump_event(running_session, "pause", rate_ml_per_h=None, at=t, acting_user=crna)
    closed = sessions.do_close_session(running_session, reason="Patient wants to leave now", at=t, acting_user=nurse)
    assert closed.status == "closed" and closed.administered_mg is not None and closed.visit.status == "done"


def test_a_session_that_gave_no_dose_cancels_its_visit_when_closed(verified_order, nurse) -> None:
    visit = verified_order.visit
    session = sessions.do_open_session(visit, at=visit.starts_at, acting_user=nurse)
    sessions.do_close_session(session, reason="IV access failed twice; rebook", at=visit.starts_at, acting_user=nurse)
    visit.refresh_from_db()
    assert visit.status == "cancelled" and "IV access" in visit.cancel_reason


def test_the_front_desk_cannot_move_or_cancel_a_visit_in_the_chair(running_session, front_desk) -> None:
    visit = running_session.visit
    with pytest.raises(Conflict, match="opened at the chair"):
        schedule.do_cancel_visit(visit, reason="Patient called", acting_user=front_desk)
    with pytest.raises(Conflict, match="opened at the chair"):
        schedule.do_reschedule_visit(
            visit, visit.starts_at + timedelta(days=1), reason="Patient called", acting_user=front_desk
        )


def test_a_session_left_open_after_the_clinic_day_raises_an_alert(verified_order, nurse) -> None:
    visit = verified_order.visit
    with time_machine.travel(visit.starts_at, tick=False):
        session = sessions.do_open_session(visit, at=timezone.now(), acting_user=nurse)
    with time_machine.travel(visit.starts_at + timedelta(hours=2), tick=False):
        assert run_due_jobs() == 0
    closes = timezone.localtime(visit.starts_at).replace(hour=17, minute=1)
    with time_machine.travel(closes, tick=False):
        assert run_due_jobs() == 1
    alert = Alert.objects.get(kind="session_open")
    assert f"visit #{visit.number}" in alert.message and alert.severity == "notify"
    assert InfusionSession.objects.get(pk=session.pk).status == "checklist"


def test_the_today_board_lists_an_open_session_from_another_day(verified_order, nurse) -> None:
    from ketamine_clinic.services import outcomes

    visit = verified_order.visit
    sessions.do_open_session(visit, at=visit.starts_at, acting_user=nurse)
    later = visit.starts_at + timedelta(days=1)
    day = outcomes.clinic_day(timezone.localdate(later), later)
    (row,) = [r for r in day["rows"] if r["visit"].pk == visit.pk]
    assert row["other_day"] and row["session"] is not None
