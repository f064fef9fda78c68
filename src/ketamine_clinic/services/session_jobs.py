"""Background checks on chair-side sessions: a session still open after the clinic day
ends raises an alert to close it (discharge, or close without discharge with a reason)."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone
from django_tasks import task

from ketamine_clinic.services import alerts, rules
from ketamine_clinic.storage.models import Alert, InfusionSession

__all__ = ["check_session_closed", "end_of_clinic_day", "schedule_end_of_day_check"]

SESSION_OPEN = "session_open"


def end_of_clinic_day(opened_at: datetime) -> datetime:
    """The clinic's closing time on the day ``opened_at`` falls on (clinic time zone); a
    session opened after closing is checked an hour after it opened."""
    local = timezone.localtime(opened_at)
    closes = local.replace(hour=rules.CLINIC_CLOSES.hour, minute=rules.CLINIC_CLOSES.minute, second=0, microsecond=0)
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
