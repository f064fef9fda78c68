"""Background checks on chair-side sessions: a running pump that reaches the ordered dose
raises a stop-level alert (the administered total never silently exceeds the order); a
session still open after the clinic day ends raises an alert to close it."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone
from django_tasks import task

from ketamine_clinic.services import alerts, clinic
from ketamine_clinic.storage.models import Alert, InfusionSession

__all__ = [
    "check_dose_reached",
    "check_session_closed",
    "end_of_clinic_day",
    "schedule_dose_reached_check",
    "schedule_end_of_day_check",
]

SESSION_OPEN = "session_open"


def end_of_clinic_day(opened_at: datetime) -> datetime:
    """The clinic's closing time on the day ``opened_at`` falls on (clinic time zone); a
    session opened after closing is checked an hour after it opened."""
    local = timezone.localtime(opened_at)
    closing = clinic.clinic_hours().closes
    closes = local.replace(hour=closing.hour, minute=closing.minute, second=0, microsecond=0)
    return closes if closes > local else local + timedelta(hours=1)


def schedule_end_of_day_check(session: InfusionSession) -> None:
    """Enqueue the check in the caller's transaction (it exists exactly when the session does)."""
    check_session_closed.using(run_after=end_of_clinic_day(session.opened_at)).enqueue(session.pk)


@task()
def check_session_closed(session_id: int) -> bool:
    """Raise a notify alert when the session is still open; ``True`` when it raised one."""
    with transaction.atomic():
        session = InfusionSession.objects.select_for_update().select_related("visit", "patient").get(pk=session_id)
        if session.status not in InfusionSession.OPEN_STATUSES:
            return False
        if Alert.objects.filter(patient=session.patient, kind=SESSION_OPEN, acknowledged_at=None).exists():
            return False
        alerts.raise_alert(
            session.patient,
            kind=SESSION_OPEN,
            severity="notify",
            message=(
                f"The session of visit #{session.visit.number} is still open after the clinic day: "
                "discharge the patient or close the session with a reason."
            ),
            source="",
            at=timezone.now(),
            actor=None,
        )
    return True


def schedule_dose_reached_check(session: InfusionSession, event_id: int, *, at: datetime, rate_ml_per_h: float) -> None:
    """At a start, resume or rate change: enqueue the check for the moment the ordered dose
    is reached at this rate (caller's transaction)."""
    from ketamine_clinic.services.sessions import administered_mg_at

    order = session.order
    mg_per_h = rate_ml_per_h * float(order.concentration_mg_per_ml)
    if mg_per_h <= 0:
        return
    remaining = float(order.dose_mg) - administered_mg_at(session, at)
    reach = at + timedelta(hours=max(remaining, 0.0) / mg_per_h)
    check_dose_reached.using(run_after=reach).enqueue(session.pk, event_id)


@task()
def check_dose_reached(session_id: int, event_id: int) -> bool:
    """Raise a stop alert when the pump still runs on the event that was due to reach the
    ordered dose; ``True`` when it raised one [S11]."""
    from ketamine_clinic.services.sessions import administered_mg_at, current_entries
    from ketamine_clinic.storage.models import PumpEvent

    with transaction.atomic():
        session = InfusionSession.objects.select_for_update().select_related("order", "patient").get(pk=session_id)
        events = current_entries(PumpEvent, session)
        if session.status != "running" or not events or events[-1].pk != event_id:
            return False
        given = administered_mg_at(session, timezone.now())
        alerts.raise_alert(
            session.patient,
            kind="dose_reached",
            severity="stop",
            message=f"The ordered dose of {session.order.dose_mg} mg has been reached ({given:.1f} mg given): "
            "stop the pump.",
            source="[S11]",
            at=timezone.now(),
            actor=None,
        )
    return True
